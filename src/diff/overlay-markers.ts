// What an overlay upper dir holds in place of OCI whiteouts, and the
// attributes a directory made for a layer's entry takes from the layers
// below, as containerd's archive.Apply writes them into an upper dir
// (OverlayConvertWhiteout, mkparent with WithParents). Shared by the applier
// and by a rebase, which writes them once the lower layers are known.
import fsSync, { constants } from 'node:fs';
import { syscalls } from '../native/syscalls';
import { fsPath, type BytePath } from './byte-paths';
import { fileXattrs } from './file-xattrs';
import { rootPath } from './root-path';

/** The opaque marker's xattr: user.overlay.* when overlay is mounted with userxattr (rootless), trusted.overlay.* otherwise. */
export function opaqueXattr(overlayOptions: readonly string[]): string {
  return overlayOptions.includes('userxattr') ? 'user.overlay.opaque' : 'trusted.overlay.opaque';
}

/** A whiteout: a 0/0 character device, owned as the whiteout entry was. */
export function writeWhiteoutMarker(target: BytePath, uid: number, gid: number): void {
  syscalls.mknod(fsPath(target), constants.S_IFCHR, 0, 0);
  fsSync.lchownSync(fsPath(target), uid, gid);
}

/** Marks a directory opaque: overlayfs shows nothing of the same directory in lower layers. */
export function markOpaque(dir: BytePath, xattr: string): void {
  syscalls.lsetxattr(fsPath(dir), xattr, Buffer.from('y'));
}

/**
 * The directory a lower layer has at `relative` (nearest layer first), as
 * mkparent looks for it: the first layer with anything there decides, and
 * only a directory counts.
 */
export function lowerDirectory(lowers: readonly BytePath[], relative: BytePath): { path: BytePath; stat: fsSync.Stats } | undefined {
  for (const lower of lowers) {
    const source = rootPath(lower, relative);
    const stat = lstatIfExists(source);
    if (!stat) continue;
    return stat.isDirectory() ? { path: source, stat } : undefined;
  }
  return undefined;
}

/** Gives `made` the mode, owner and xattrs of the lower layers' directory at `relative`, if they have one; returns it. */
export function copyLowerDirectory(made: BytePath, lowers: readonly BytePath[], relative: BytePath): fsSync.Stats | undefined {
  const lower = lowerDirectory(lowers, relative);
  if (!lower) return undefined;
  const bytes = fsPath(made);
  fsSync.chmodSync(bytes, lower.stat.mode & 0o7777);
  fsSync.lchownSync(bytes, lower.stat.uid, lower.stat.gid);
  for (const [name, value] of fileXattrs(lower.path)) syscalls.lsetxattr(bytes, name, value);
  return lower.stat;
}

export function lstatIfExists(target: BytePath): fsSync.Stats | undefined {
  try {
    return fsSync.lstatSync(fsPath(target), { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
