// Reads a mounted filesystem tree into comparable records, and lists the
// differences between two such trees, so two snapshotters' views of the same
// image can be checked for equality path by path.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type EntryType = 'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket';

export interface TreeEntry {
  type: EntryType;
  /** Permission and special bits (setuid, setgid, sticky): st_mode & 0o7777. */
  mode: number;
  uid: number;
  gid: number;
  /**
   * Left out for directories: their size depends on the filesystem and its
   * history (overlay merges, copies), not on the image.
   */
  size?: number;
  /**
   * Nanoseconds since the epoch, left out for directories: applying a layer
   * creates and deletes entries in them after their time was set.
   */
  mtimeNs?: bigint;
  sha256?: string;
  linkTarget?: string;
  device?: { major: number; minor: number };
  /** Extended attribute name → value as getfattr's hex (`0x...`). */
  xattrs: Record<string, string>;
  /**
   * The other paths of this tree that share this entry's inode, sorted; empty
   * when it has a single name here. Raw link counts are not compared: an
   * overlay view reports the lower file's count even when a later layer
   * deleted or replaced one of its names.
   */
  hardlinks: string[];
}

/**
 * Entries keyed by path relative to the root ('.' is the root itself). Paths
 * and link targets are byte strings (one latin1 character per byte), so
 * names that are not UTF-8 compare byte for byte.
 */
export type Tree = Map<string, TreeEntry>;

function entryType(stat: fs.BigIntStats): EntryType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isCharacterDevice()) return 'char-device';
  if (stat.isBlockDevice()) return 'block-device';
  if (stat.isFIFO()) return 'fifo';
  return 'socket';
}

/** Splits a Linux dev_t the way glibc's major()/minor() do. */
function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** A byte-string path as the bytes the kernel takes. */
function bytes(name: string): Buffer {
  return Buffer.from(name, 'latin1');
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(bytes(file)), hash);
  return hash.digest('hex');
}

/** getfattr writes unusual bytes in names as backslash + three octal digits; the result is a byte string. */
function unescapeGetfattrName(name: string): string {
  return Buffer.from(name, 'utf8')
    .toString('latin1')
    .replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Every extended attribute of every path under root (any namespace, symlinks
 * not followed), keyed by relative path, from a single getfattr run.
 */
async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  const { stdout } = await execFileAsync(
    'getfattr',
    ['-R', '-d', '-m', '-', '-h', '-e', 'hex', '--absolute-names', root],
    // In the C locale getfattr escapes every byte past ASCII, so its output is ASCII.
    { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
  );
  const result = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      result.set(path.relative(root, unescapeGetfattrName(line.slice('# file: '.length))) || '.', current);
    } else if (line !== '' && current !== undefined) {
      const equals = line.indexOf('=');
      if (equals === -1) current[line] = '';
      else current[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return result;
}

export async function readTree(root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const pathsByInode = new Map<string, string[]>();

  async function visit(relative: string): Promise<void> {
    const absolute = path.join(root, relative);
    const stat = await fs.promises.lstat(bytes(absolute), { bigint: true });
    const type = entryType(stat);
    const entry: TreeEntry = {
      type,
      mode: Number(stat.mode & 0o7777n),
      uid: Number(stat.uid),
      gid: Number(stat.gid),
      xattrs: {},
      hardlinks: [],
    };
    tree.set(relative, entry);

    if (type === 'directory') {
      const names = (await fs.promises.readdir(bytes(absolute), { encoding: 'buffer' })).map((name) => name.toString('latin1'));
      for (const name of names.sort()) await visit(relative === '.' ? name : path.join(relative, name));
      return;
    }

    entry.size = Number(stat.size);
    entry.mtimeNs = stat.mtimeNs;
    const inode = `${stat.dev}:${stat.ino}`;
    pathsByInode.set(inode, [...(pathsByInode.get(inode) ?? []), relative]);
    if (type === 'file') entry.sha256 = await sha256OfFile(absolute);
    if (type === 'symlink') entry.linkTarget = (await fs.promises.readlink(bytes(absolute), { encoding: 'buffer' })).toString('latin1');
    if (type === 'char-device' || type === 'block-device') entry.device = splitDevice(stat.rdev);
  }

  await visit('.');

  for (const paths of pathsByInode.values()) {
    for (const member of paths) {
      const entry = tree.get(member);
      if (entry !== undefined) entry.hardlinks = paths.filter((other) => other !== member).sort();
    }
  }
  for (const [relative, xattrs] of await readXattrs(root)) {
    const entry = tree.get(relative);
    if (entry === undefined) throw new Error(`getfattr reported ${relative}, which the walk of ${root} did not find`);
    entry.xattrs = xattrs;
  }
  return tree;
}

function describeMtime(ns: bigint | undefined): string {
  if (ns === undefined) return 'none';
  return `${new Date(Number(ns / 1_000_000n)).toISOString()} (${ns}ns)`;
}

/** Each compared property of an entry, rendered as text for equality checks and messages. */
function properties(entry: TreeEntry): Record<string, string> {
  return {
    type: entry.type,
    mode: `0${entry.mode.toString(8)}`,
    owner: `${entry.uid}:${entry.gid}`,
    size: String(entry.size ?? 'none'),
    mtime: describeMtime(entry.mtimeNs),
    sha256: entry.sha256 ?? 'none',
    linkTarget: entry.linkTarget ?? 'none',
    device: entry.device === undefined ? 'none' : `${entry.device.major}:${entry.device.minor}`,
    xattrs: JSON.stringify(Object.entries(entry.xattrs).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))),
    hardlinks: JSON.stringify(entry.hardlinks),
  };
}

/** diffTrees' result for an assertion message: the count, then at most `shown` of them. */
export function formatDifferences(differences: string[], shown = 60): string {
  return `${differences.length} difference(s):\n  ${differences.slice(0, shown).join('\n  ')}`;
}

/** Human-readable differences between two trees; empty when they are identical. */
export function diffTrees(a: Tree, b: Tree, names: [string, string] = ['first', 'second']): string[] {
  const differences: string[] = [];
  const allPaths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const relative of allPaths) {
    const left = a.get(relative);
    const right = b.get(relative);
    if (left === undefined || right === undefined) {
      const [present, entry] = left === undefined ? [names[1], right] : [names[0], left];
      differences.push(`${relative}: only in ${present} (${entry?.type})`);
      continue;
    }
    const leftProperties = properties(left);
    const rightProperties = properties(right);
    for (const [key, value] of Object.entries(leftProperties)) {
      if (value !== rightProperties[key]) {
        differences.push(`${relative}: ${key} ${names[0]}=${value} ${names[1]}=${rightProperties[key]}`);
      }
    }
  }
  return differences;
}
