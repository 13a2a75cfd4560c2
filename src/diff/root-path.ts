// Resolves a path inside a root as if the root were "/", following symlinks
// with that same rule, the way containerd's continuity fs.RootPath does. No
// name in a layer, however crafted (.., absolute paths, symlinks pointing
// out), can resolve outside the root. Roots, names and results are byte
// strings (see byte-paths.ts).
import path from 'node:path';
import { invalidArgument } from '../errdefs';
import { syscalls } from '../native/syscalls';
import { fromFs, fsPath, shown } from './byte-paths';

const MAX_SYMLINKS = 255;

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Walks `pending` from `resolved` (a symlink-free path relative to the root,
 * "/" for the root itself), returning the symlink-free result. Each
 * component costs one readlink.
 */
function walk(root: string, resolved: string, pending: string[], unsafe: string): string {
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '..') {
      resolved = path.posix.dirname(resolved);
      continue;
    }
    const candidate = path.posix.join(resolved, component);
    // Not a symlink, or not there yet: either way it is taken as a name.
    const link = syscalls.readlinkIfSymlink(fsPath(path.join(root, candidate)));
    if (link === undefined) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_SYMLINKS) throw invalidArgument(`too many symlinks resolving ${shown(unsafe)}`);
    const target = fromFs(link);
    if (target.startsWith('/')) resolved = '/';
    pending.unshift(...components(target));
  }
  return resolved;
}

function onHost(root: string, resolved: string): string {
  return resolved === '/' ? root : path.join(root, resolved);
}

export function rootPath(root: string, unsafe: string): string {
  return onHost(root, walk(root, '/', components(unsafe), unsafe));
}

/**
 * rootPath for many names under one root, as an applier asks it: each
 * directory is resolved once, from its parent's resolution, so a name costs
 * one readlink however deep it is. Resolving a/b/c from a/b's result is the
 * same walk rootPath does, stopped and resumed. Whoever changes what a name
 * resolves to (a new symlink, a removal) calls forget().
 */
export class RootResolver {
  /** Directory names, as their components joined, to their symlink-free resolutions. */
  private readonly resolved = new Map<string, string>();

  constructor(readonly root: string) {}

  resolve(unsafe: string): string {
    return onHost(this.root, this.relative(components(unsafe), unsafe));
  }

  forget(): void {
    this.resolved.clear();
  }

  private relative(parts: string[], unsafe: string): string {
    if (parts.length === 0) return '/';
    const key = parts.join('/');
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached;
    const parent = this.relative(parts.slice(0, -1), unsafe);
    const result = walk(this.root, parent, [parts[parts.length - 1]], unsafe);
    this.resolved.set(key, result);
    return result;
  }
}
