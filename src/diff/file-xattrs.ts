// A file's own extended attributes, read without following symlinks.
import { syscalls } from '../native/syscalls';
import { fsPath, type BytePath } from './byte-paths';

/** Overlay's own xattrs describe the layering, not the file, and are left out. */
export function fileXattrs(file: BytePath): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  const bytes = fsPath(file);
  for (const name of syscalls.llistxattr(bytes)) {
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
    const value = syscalls.lgetxattr(bytes, name);
    if (value) xattrs.set(name, value);
  }
  return xattrs;
}
