// A layer applied into a snapshot that has no parent yet, on a backend that
// may be given one when it is committed (containerd 2.2's parallel unpack
// prepares every layer without a parent, applies them at once, then commits
// each onto the one below: a rebase). Applied as a plain directory, the
// layer's whiteouts and opaque markers find nothing to remove, and the
// directories made for its entries get default attributes where the layer
// below has some to copy. Both would be lost. So the applier records them
// here, and a rebasing Commit replays them into the snapshot, now an upper
// dir with known lower layers: a whiteout marker where nothing of this layer
// stands, the opaque xattr on a directory still there, and the lower
// directory's mode, owner and xattrs on a directory made only for what is in
// it. That is the upper dir a sequential unpack writes. A Commit without a
// parent drops the records: the snapshot is a base layer, a plain directory,
// as a sequential unpack writes it.
import fs from 'node:fs';
import path from 'node:path';
import { fsPath, type BytePath } from './byte-paths';
import { fileXattrs } from './file-xattrs';
import { copyLowerDirectory, lowerDirectory, lstatIfExists, markOpaque, writeWhiteoutMarker } from './overlay-markers';
import { rootPath } from './root-path';
import { syscalls } from '../native/syscalls';

/** Paths are relative to the snapshot's root, with a leading '/', as byte strings. */
type MarkerRecord =
  | { kind: 'whiteout'; path: BytePath; uid: number; gid: number }
  | { kind: 'opaque'; path: BytePath }
  /** A directory made for an entry beneath it. */
  | { kind: 'made'; path: BytePath }
  /** A made directory whose own entry came later: its mode and owner are the entry's, and only the lower's xattrs are added. */
  | { kind: 'declared'; path: BytePath };

/** What one Apply records, in the order the layer's entries asked for it. */
export class DeferredMarkers {
  private readonly records: { record: MarkerRecord; seq: number }[] = [];
  /** Directories removed during the apply, with when: a record made before the removal of its path or of a parent is void. */
  private readonly removedAt = new Map<BytePath, number>();
  private seq = 0;

  whiteout(relative: BytePath, uid: number, gid: number): void {
    this.add({ kind: 'whiteout', path: relative, uid, gid });
  }

  opaque(relative: BytePath): void {
    this.add({ kind: 'opaque', path: relative });
  }

  madeDirectory(relative: BytePath): void {
    this.add({ kind: 'made', path: relative });
  }

  declaredDirectory(relative: BytePath): void {
    this.add({ kind: 'declared', path: relative });
  }

  removedDirectory(relative: BytePath): void {
    this.removedAt.set(relative, ++this.seq);
  }

  private add(record: MarkerRecord): void {
    this.records.push({ record, seq: ++this.seq });
  }

  /**
   * Appends the records no later removal voided to `file`, beside the
   * snapshot's tree and as durable as it: the syncfs an Apply may ask for
   * covers both, and the Commit that replays them may come after a restart.
   */
  append(file: string): void {
    const lines = this.records.filter(({ record, seq }) => this.stands(record, seq)).map(({ record }) => `${serialise(record)}\n`);
    if (lines.length > 0) fs.appendFileSync(file, lines.join(''), { mode: 0o600 });
  }

  /** Whether the record's directory (or, for a whiteout, the directory it is in) outlived the rest of the apply. */
  private stands(record: MarkerRecord, seq: number): boolean {
    const last = record.kind === 'whiteout' ? path.posix.dirname(record.path) : record.path;
    for (let end = last.indexOf('/', 1); ; end = last.indexOf('/', end + 1)) {
      const dir = end < 0 ? last : last.slice(0, end);
      if ((this.removedAt.get(dir) ?? 0) > seq) return false;
      if (end < 0) return true;
    }
  }
}

function serialise(record: MarkerRecord): string {
  return JSON.stringify({ ...record, path: Buffer.from(record.path, 'latin1').toString('base64') });
}

function parse(line: string): MarkerRecord {
  const record = JSON.parse(line) as MarkerRecord;
  return { ...record, path: Buffer.from(record.path, 'base64').toString('latin1') };
}

/** The records in `file`, oldest first; none when there is no file (nothing was applied, or nothing needed recording). */
function readRecords(file: string): MarkerRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').filter((line) => line !== '').map(parse);
}

/**
 * Writes the recorded markers into `upper`, whose lower layers are now
 * `lowers` (nearest first). Every record is checked against what is there
 * now, and a path that no longer resolves to itself inside the upper dir
 * (a later layer entry made a parent a symlink) is skipped: nothing is ever
 * written outside it. Running it twice gives the same result, so a Commit
 * that failed after it can be run again.
 */
export function replayDeferredMarkers(file: string, upper: string, lowers: readonly string[], opaqueXattr: string): void {
  const root = Buffer.from(upper, 'utf8').toString('latin1');
  const lowerRoots = lowers.map((lower) => Buffer.from(lower, 'utf8').toString('latin1'));
  const inside = (relative: BytePath): BytePath | undefined => {
    const resolved = rootPath(root, relative);
    return resolved === path.resolve(root, `.${relative}`) ? resolved : undefined;
  };
  const isDirectory = (target: BytePath | undefined): target is BytePath => target !== undefined && lstatIfExists(target)?.isDirectory() === true;
  /** made or declared, by path: the last record for a directory decides, and declared counts only after made. */
  const directories = new Map<BytePath, 'made' | 'declared'>();
  for (const record of readRecords(file)) {
    switch (record.kind) {
      case 'whiteout': {
        const target = inside(record.path);
        if (target && !lstatIfExists(target) && isDirectory(inside(path.posix.dirname(record.path)))) {
          writeWhiteoutMarker(target, record.uid, record.gid);
        }
        break;
      }
      case 'opaque': {
        const target = inside(record.path);
        if (isDirectory(target)) markOpaque(target, opaqueXattr);
        break;
      }
      case 'made':
        directories.set(record.path, 'made');
        break;
      case 'declared':
        if (directories.get(record.path) === 'made') directories.set(record.path, 'declared');
        break;
    }
  }
  // Parents first, as they were made: a directory made with no lower one to
  // copy inherits a setgid parent's group, as mkdir(2) gave it in place.
  const byDepth = [...directories].sort(([a], [b]) => a.split('/').length - b.split('/').length);
  for (const [relative, kind] of byDepth) {
    const target = inside(relative);
    if (!isDirectory(target)) continue;
    if (kind === 'declared') {
      const lower = lowerDirectory(lowerRoots, relative);
      const present = new Set(syscalls.llistxattr(fsPath(target)));
      for (const [name, value] of lower ? fileXattrs(lower.path) : []) if (!present.has(name)) syscalls.lsetxattr(fsPath(target), name, value);
    } else if (!copyLowerDirectory(target, lowerRoots, relative)) {
      inheritSetgid(target);
    }
  }
}

/**
 * A directory this layer made only for entries beneath it, at a path where
 * a lower layer has something other than a directory: in a sequential
 * unpack those entries went through the lower symlink (or failed at the
 * file), so the parentless unpack recorded in `file` came out differently.
 * Returns the first such path, or undefined when the layer's result does
 * not depend on the layers beneath it in this way. Conservative: any lower
 * layer counts, even one a nearer layer hides.
 */
export function madeOverLowerNonDirectory(file: string, lowers: readonly string[]): BytePath | undefined {
  const lowerRoots = lowers.map((lower) => Buffer.from(lower, 'utf8').toString('latin1'));
  const checked = new Set<BytePath>();
  for (const record of readRecords(file)) {
    if (record.kind !== 'made') continue;
    for (let end = record.path.indexOf('/', 1); ; end = record.path.indexOf('/', end + 1)) {
      const prefix = end < 0 ? record.path : record.path.slice(0, end);
      if (!checked.has(prefix)) {
        checked.add(prefix);
        // Earlier prefixes were directories or absent in every lower, so this joins no symlink.
        if (lowerRoots.some((lower) => lstatIfExists(`${lower}${prefix}`)?.isDirectory() === false)) return prefix;
      }
      if (end < 0) break;
    }
  }
  return undefined;
}

const S_ISGID = 0o2000;

/** What mkdir(2) does under a setgid directory: the new one takes its group and its setgid bit. */
function inheritSetgid(dir: BytePath): void {
  const parent = fs.lstatSync(fsPath(path.dirname(dir)));
  if ((parent.mode & S_ISGID) === 0) return;
  const own = fs.lstatSync(fsPath(dir));
  fs.lchownSync(fsPath(dir), own.uid, parent.gid);
  fs.chmodSync(fsPath(dir), (own.mode & 0o7777) | S_ISGID);
}
