// Resolves a path inside a root as if the root were "/", following symlinks
// with that same rule, the way containerd's continuity fs.RootPath does. No
// name in a layer, however crafted (.., absolute paths, symlinks pointing
// out), can resolve outside the root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../errdefs';

const MAX_SYMLINKS = 255;

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

export async function rootPath(root: string, unsafe: string): Promise<string> {
  let resolved = '/';
  const pending = components(unsafe);
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '..') {
      resolved = path.posix.dirname(resolved);
      continue;
    }
    const candidate = path.posix.join(resolved, component);
    let target: string | undefined;
    try {
      target = await fs.readlink(path.join(root, candidate));
    } catch {
      // Not a symlink, or not there yet: either way it is taken as a name.
    }
    if (target === undefined) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_SYMLINKS) throw invalidArgument(`too many symlinks resolving ${unsafe}`);
    if (target.startsWith('/')) resolved = '/';
    pending.unshift(...components(target));
  }
  return resolved === '/' ? root : path.join(root, resolved);
}
