// A file's own extended attributes, read without following symlinks.
import { syscalls } from '../native/syscalls';

/** Overlay's own xattrs describe the layering, not the file, and are left out. */
export function fileXattrs(file: string): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  for (const name of syscalls.llistxattr(file)) {
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
    const value = syscalls.lgetxattr(file, name);
    if (value) xattrs.set(name, value);
  }
  return xattrs;
}
