// The changes that turn one directory tree into another, found by walking
// both in name order, as containerd's continuity fs.Changes does. A deleted
// directory is one change (its children go with it), and so is a directory
// replaced by a file. Roots and paths are byte strings (see byte-paths.ts).
import fs from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { bytePath, fromFs, fsPath, type BytePath } from './byte-paths';
import { fileXattrs } from './file-xattrs';

/**
 * 'unmodified' is an unchanged file that has other names: a changed name of
 * its inode brings it into the layer as a hard link, as containerd's
 * change writer does, so that the link survives.
 */
export type ChangeKind = 'add' | 'modify' | 'delete' | 'unmodified';

export interface Change {
  kind: ChangeKind;
  /** Path relative to the roots, without a leading slash. */
  path: BytePath;
  /** Absolute path in the upper tree (absent for deletions). */
  source?: BytePath;
  stat?: BigIntStats;
}

function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return fallback;
    throw err;
  };
}

/** Byte order, as Go sorts names; a byte string's characters are its bytes. */
function byteOrder(a: BytePath, b: BytePath): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function sortedEntries(dir: BytePath): Promise<BytePath[]> {
  const names = await fs.readdir(fsPath(dir), { encoding: 'buffer' }).catch(ifMissing([] as Buffer[]));
  return names.map(fromFs).sort(byteOrder);
}

function lstat(file: BytePath): Promise<BigIntStats | undefined> {
  return fs.lstat(fsPath(file), { bigint: true }).catch(ifMissing(undefined));
}

export function readLink(file: BytePath): Promise<BytePath> {
  return fs.readlink(fsPath(file), { encoding: 'buffer' }).then(fromFs);
}

const SECOND = 1_000_000_000n;
const CONTENT_PIECE = 256 * 1024;

async function sameContent(a: BytePath, b: BytePath): Promise<boolean> {
  const [fa, fb] = await Promise.all([fs.open(fsPath(a)), fs.open(fsPath(b))]);
  try {
    const [ba, bb] = [Buffer.alloc(CONTENT_PIECE), Buffer.alloc(CONTENT_PIECE)];
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, CONTENT_PIECE), fb.read(bb, 0, CONTENT_PIECE)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      if (ra.bytesRead === 0) return true;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

async function sameFile(a: BytePath, sa: BigIntStats, b: BytePath, sb: BigIntStats): Promise<boolean> {
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.mode !== sb.mode || sa.uid !== sb.uid || sa.gid !== sb.gid || sa.rdev !== sb.rdev) return false;
  if (!sa.isDirectory() && (sa.size !== sb.size || sa.mtimeNs !== sb.mtimeNs)) return false;
  if (sa.isSymbolicLink() && (await readLink(a)) !== (await readLink(b))) return false;
  const xa = fileXattrs(a);
  const xb = fileXattrs(b);
  if (xa.size !== xb.size) return false;
  for (const [name, value] of xa) if (!xb.get(name)?.equals(value)) return false;
  // Both times whole seconds: one may come from a layer, which truncates
  // them, so equal times say nothing; continuity compares the bytes then,
  // last, as the dearest check.
  if (sa.isFile() && sa.size > 0n && sa.mtimeNs % SECOND === 0n) return sameContent(a, b);
  return true;
}

/** The changes from the tree at lower to the one at upper (both given as text). */
export function treeChanges(lower: string, upper: string): AsyncGenerator<Change> {
  return changesBelow(bytePath(lower), bytePath(upper), '');
}

async function* changesBelow(lower: BytePath, upper: BytePath, rel: BytePath): AsyncGenerator<Change> {
  const lowerNames = await sortedEntries(path.join(lower, rel));
  const upperNames = await sortedEntries(path.join(upper, rel));
  const names = [...new Set([...lowerNames, ...upperNames])].sort(byteOrder);
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const a = path.join(lower, child);
    const b = path.join(upper, child);
    const sa = await lstat(a);
    const sb = await lstat(b);
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
    else if (!sb.isDirectory() && sb.nlink > 1n) yield { kind: 'unmodified', path: child, source: b, stat: sb };
    if (sb.isDirectory()) yield* changesBelow(lower, upper, child);
  }
}

async function* added(upper: BytePath, child: BytePath, stat: BigIntStats): AsyncGenerator<Change> {
  const source = path.join(upper, child);
  yield { kind: 'add', path: child, source, stat };
  if (!stat.isDirectory()) return;
  for (const name of await sortedEntries(source)) {
    const grandchild = `${child}/${name}`;
    yield* added(upper, grandchild, await fs.lstat(fsPath(path.join(upper, grandchild)), { bigint: true }));
  }
}
