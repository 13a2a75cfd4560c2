// Random changes to a mounted snapshot, as a container's processes would make
// them: writes, new directories, removals, symlinks, mode and owner changes,
// hard links, a file replaced by a directory and the reverse, user xattrs set
// and removed, times set. Each operation names a path of the small name space
// in layer-model.ts and does something sensible whatever is there now; none
// ever follows a symlink (a snapshot's symlinks may point anywhere on the
// host), and one whose parent is not a real directory is skipped. Hard links
// can be kept to files the same run wrote (see MutationOptions).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { ID_ABOVE_SIX_DIGITS, mtimeArb, pathArb } from './layer-model';

const execFileAsync = promisify(execFile);

export type Mutation =
  | { op: 'write'; path: string; bytes: number[] }
  | { op: 'append'; path: string; bytes: number[] }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'rm'; path: string }
  | { op: 'symlink'; path: string; target: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chown'; path: string; uid: number; gid: number }
  | { op: 'hardlink'; path: string; from: string }
  | { op: 'setxattr'; path: string; name: string; value: string }
  | { op: 'rmxattr'; path: string; name: string }
  | { op: 'touch'; path: string; mtime: number };

const bytesArb = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 });
const XATTR_NAMES = ['user.a', 'user.b', 'user.m'];

export function mutationArb(): fc.Arbitrary<Mutation> {
  const idArb = fc.constantFrom(0, 42, 65534, 262_143, ID_ABOVE_SIX_DIGITS);
  // The times layer-model gives layers' files too, so a file rewritten with as many bytes can get its lower time back.
  const touchArb = mtimeArb(true);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), path: pathArb, bytes: bytesArb }) },
    // At least a byte: appending none changes nothing, not even the time, and the file would count as written.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), path: pathArb, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: pathArb, mode: fc.constantFrom(0o755, 0o700, 0o1777, 0o2750) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('rm' as const), path: pathArb }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('symlink' as const), path: pathArb, target: fc.oneof(pathArb, pathArb.map((p) => `/${p}`), fc.constantFrom('..', 'nowhere')) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('chmod' as const), path: pathArb, mode: fc.constantFrom(0o644, 0o600, 0o755, 0o4755, 0o2711, 0o1777, 0o500) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('chown' as const), path: pathArb, uid: idArb, gid: idArb }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('hardlink' as const), path: pathArb, from: pathArb }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('setxattr' as const), path: pathArb, name: fc.constantFrom(...XATTR_NAMES), value: fc.constantFrom('v', 'other', '') }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('rmxattr' as const), path: pathArb, name: fc.constantFrom(...XATTR_NAMES) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('touch' as const), path: pathArb, mtime: touchArb }) },
  );
}

function lstat(absolute: string): fs.Stats | undefined {
  return fs.lstatSync(absolute, { throwIfNoEntry: false });
}

/**
 * Whether the parents of `relative` are all real directories; with `create`,
 * missing ones are made first. A parent that is anything else (a file, a
 * symlink) means the operation is skipped.
 */
function parentsReady(root: string, relative: string, create: boolean): boolean {
  let at = root;
  for (const part of relative.split('/').slice(0, -1)) {
    at = path.join(at, part);
    const stat = lstat(at);
    if (stat === undefined && create) fs.mkdirSync(at);
    else if (!stat?.isDirectory()) return false;
  }
  return true;
}

const CREATING = new Set<Mutation['op']>(['write', 'mkdir', 'symlink', 'hardlink']);

function removeAny(absolute: string): void {
  fs.rmSync(absolute, { recursive: true, force: true });
}

async function setfattr(args: string[]): Promise<void> {
  await execFileAsync('setfattr', ['-h', ...args]);
}

/** Applies changes under one root, one at a time. */
export class Mutator {
  constructor(private readonly root: string) {}

  /** Applies one change; returns a line for the log: 'done' or 'skip', and the change as made. */
  async apply(m: Mutation): Promise<string> {
    const result = await this.change(m);
    return `${result} ${JSON.stringify(m)}`;
  }

  private async change(m: Mutation): Promise<'done' | 'skip'> {
    const root = this.root;
    if (!parentsReady(root, m.path, CREATING.has(m.op))) return 'skip';
    const at = path.join(root, m.path);
    const stat = lstat(at);
    switch (m.op) {
      case 'write':
        // Over a directory or a symlink, replaces it; over a file, rewrites it in place (its hard links see the change).
        if (stat && !stat.isFile()) removeAny(at);
        fs.writeFileSync(at, Buffer.from(m.bytes));
        return 'done';
      case 'append':
        if (!stat?.isFile()) return 'skip';
        fs.appendFileSync(at, Buffer.from(m.bytes));
        return 'done';
      case 'mkdir':
        if (stat?.isDirectory()) return 'skip';
        if (stat) removeAny(at);
        fs.mkdirSync(at);
        fs.chmodSync(at, m.mode);
        return 'done';
      case 'rm':
        if (!stat) return 'skip';
        removeAny(at);
        return 'done';
      case 'symlink':
        if (stat) removeAny(at);
        fs.symlinkSync(m.target, at);
        return 'done';
      case 'chmod':
        // chmod follows symlinks; Linux has no lchmod.
        if (!stat || stat.isSymbolicLink()) return 'skip';
        fs.chmodSync(at, m.mode);
        return 'done';
      case 'chown':
        if (!stat) return 'skip';
        fs.lchownSync(at, m.uid, m.gid);
        return 'done';
      case 'hardlink': {
        const from = path.join(root, m.from);
        if (m.from === m.path || m.from.startsWith(`${m.path}/`)) return 'skip';
        if (!parentsReady(root, m.from, false) || !lstat(from)?.isFile()) return 'skip';
        if (stat) removeAny(at);
        fs.linkSync(from, at);
        return 'done';
      }
      case 'setxattr':
        // Linux refuses user xattrs on symlinks.
        if (!stat || stat.isSymbolicLink()) return 'skip';
        await setfattr(['-n', m.name, '-v', m.value === '' ? '""' : m.value, at]);
        return 'done';
      case 'rmxattr':
        if (!stat || stat.isSymbolicLink()) return 'skip';
        try {
          await setfattr(['-x', m.name, at]);
        } catch {
          return 'skip';
        }
        return 'done';
      case 'touch':
        if (!stat) return 'skip';
        fs.lutimesSync(at, m.mtime, m.mtime);
        return 'done';
    }
  }
}
