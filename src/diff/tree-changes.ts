// The changes that turn one directory tree into another, found by walking
// both in name order, as containerd's continuity fs.Changes does. A deleted
// directory is one change (its children go with it), and so is a directory
// replaced by a file.
import fs from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { fileXattrs } from './file-xattrs';

export type ChangeKind = 'add' | 'modify' | 'delete';

export interface Change {
  kind: ChangeKind;
  /** Path relative to the roots, without a leading slash. */
  path: string;
  /** Absolute path in the upper tree (absent for deletions). */
  source?: string;
  stat?: BigIntStats;
}

function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return fallback;
    throw err;
  };
}

async function sortedEntries(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(ifMissing([] as string[]));
  // Byte order, as Go sorts names.
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

async function sameFile(a: string, sa: BigIntStats, b: string, sb: BigIntStats): Promise<boolean> {
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.mode !== sb.mode || sa.uid !== sb.uid || sa.gid !== sb.gid || sa.rdev !== sb.rdev) return false;
  if (!sa.isDirectory() && (sa.size !== sb.size || sa.mtimeNs !== sb.mtimeNs)) return false;
  if (sa.isSymbolicLink() && (await fs.readlink(a)) !== (await fs.readlink(b))) return false;
  const xa = fileXattrs(a);
  const xb = fileXattrs(b);
  if (xa.size !== xb.size) return false;
  for (const [name, value] of xa) if (!xb.get(name)?.equals(value)) return false;
  return true;
}

export async function* treeChanges(lower: string, upper: string, rel = ''): AsyncGenerator<Change> {
  const lowerNames = await sortedEntries(path.join(lower, rel));
  const upperNames = await sortedEntries(path.join(upper, rel));
  const names = [...new Set([...lowerNames, ...upperNames])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const a = path.join(lower, child);
    const b = path.join(upper, child);
    const sa = await fs.lstat(a, { bigint: true }).catch(ifMissing(undefined));
    const sb = await fs.lstat(b, { bigint: true }).catch(ifMissing(undefined));
    if (!sb) {
      if (sa) yield { kind: 'delete', path: child };
      continue;
    }
    if (!sa) {
      yield* added(upper, child, sb);
      continue;
    }
    if (sa.isDirectory() !== sb.isDirectory()) {
      // The replacement takes the old entry's place whole on apply.
      if (sb.isDirectory()) yield* added(upper, child, sb);
      else yield { kind: 'modify', path: child, source: b, stat: sb };
      continue;
    }
    if (!(await sameFile(a, sa, b, sb))) yield { kind: 'modify', path: child, source: b, stat: sb };
    if (sb.isDirectory()) yield* treeChanges(lower, upper, child);
  }
}

async function* added(upper: string, child: string, stat: BigIntStats): AsyncGenerator<Change> {
  const source = path.join(upper, child);
  yield { kind: 'add', path: child, source, stat };
  if (!stat.isDirectory()) return;
  for (const name of await sortedEntries(source)) {
    const grandchild = `${child}/${name}`;
    yield* added(upper, grandchild, await fs.lstat(path.join(upper, grandchild), { bigint: true }));
  }
}
