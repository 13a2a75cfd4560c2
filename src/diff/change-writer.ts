// Writes tree changes as an OCI layer tar, as containerd's archive.WriteDiff
// does: deletions become .wh. whiteouts (at time 0, as containerd 2.x), a
// second name of an inode becomes a hardlink, times are clamped to
// SOURCE_DATE_EPOCH when one is given and truncated to seconds, and xattrs
// travel as PAX records.
import fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import type * as tar from 'tar-stream';
import { addEntry, type EntryHeader } from '../tar-pack';
import { XATTR_PREFIX, xattrRecord } from './pax-records';
import { bytePath, fsPath, type BytePath } from './byte-paths';
import { fileXattrs } from './file-xattrs';
import { readLink, type Change } from './tree-changes';

const WHITEOUT_PREFIX = '.wh.';

/**
 * Like containerd, every change is preceded by its ancestor directories, so
 * that their modes, owners and times travel with the layer.
 */
function ancestors(relative: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.posix.dirname(relative); dir !== '.'; dir = path.posix.dirname(dir)) dirs.unshift(dir);
  return dirs;
}

function deviceNumbers(rdev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/** The inode of a file with other names, as a map key; undefined for a directory or a single name. */
function inodeOf(stat: BigIntStats): string | undefined {
  return stat.nlink > 1n && !stat.isDirectory() ? `${stat.dev}:${stat.ino}` : undefined;
}

export class ChangeWriter {
  /** First name written for each hardlinked inode. */
  private readonly inodes = new Map<string, string>();
  /** Unchanged names of linked inodes no changed name has brought in yet. */
  private readonly unmodifiedNames = new Map<string, Change[]>();
  /** Directories already in the layer. */
  private readonly writtenDirs = new Set<string>();

  private readonly upperRoot: BytePath;

  constructor(
    private readonly pack: tar.Pack,
    upperRoot: string,
    /** Nanoseconds since the epoch; a later modification time is written as this one (WithModTimeUpperBound). */
    private readonly mtimeBound?: bigint,
  ) {
    this.upperRoot = bytePath(upperRoot);
  }

  async write(change: Change): Promise<void> {
    if (change.kind === 'unmodified') {
      await this.linkUnmodified(change);
      return;
    }
    await this.writeParents(change.path);
    if (change.kind === 'delete') {
      const name = path.posix.join(path.posix.dirname(change.path), WHITEOUT_PREFIX + path.posix.basename(change.path));
      await addEntry(this.pack, { name, type: 'file', size: 0, mode: 0, mtime: new Date(0) });
      return;
    }
    const stat = change.stat as BigIntStats;
    const source = change.source as BytePath;
    if (stat.isSocket()) return;
    const header = this.headerOf(change);

    const inode = inodeOf(stat);
    const firstName = inode ? this.inodes.get(inode) : undefined;
    if (firstName !== undefined) {
      await addEntry(this.pack, { ...header, type: 'link', linkname: firstName, size: 0 });
      return;
    }
    if (inode) this.inodes.set(inode, change.path);

    if (stat.isDirectory()) {
      this.writtenDirs.add(change.path);
      await addEntry(this.pack, { ...header, type: 'directory' });
    }
    else if (stat.isSymbolicLink()) {
      await addEntry(this.pack, { ...header, type: 'symlink', linkname: await readLink(source) });
    } else if (stat.isCharacterDevice()) {
      await addEntry(this.pack, { ...header, type: 'character-device', ...deviceNumbers(stat.rdev) });
    } else if (stat.isBlockDevice()) {
      await addEntry(this.pack, { ...header, type: 'block-device', ...deviceNumbers(stat.rdev) });
    } else if (stat.isFIFO()) await addEntry(this.pack, { ...header, type: 'fifo' });
    else {
      await addEntry(this.pack, { ...header, type: 'file', size: Number(stat.size) }, fs.createReadStream(fsPath(source)));
    }
    if (!inode) return;
    // Unchanged names of the inode seen before it: links to this one now.
    for (const waiting of this.unmodifiedNames.get(inode) ?? []) await this.linkUnmodified(waiting);
    this.unmodifiedNames.delete(inode);
  }

  private headerOf(change: Change): EntryHeader {
    const stat = change.stat as BigIntStats;
    const header: EntryHeader = {
      name: change.path,
      mode: Number(stat.mode & 0o7777n),
      uid: Number(stat.uid),
      gid: Number(stat.gid),
      mtime: new Date(Number(this.boundedMtimeNs(stat.mtimeNs) / 1_000_000_000n) * 1000),
    };
    const pax: Record<string, string> = {};
    for (const [name, value] of fileXattrs(change.source as BytePath)) pax[XATTR_PREFIX + name] = xattrRecord(value);
    if (Object.keys(pax).length > 0) header.pax = pax;
    return header;
  }

  private boundedMtimeNs(mtimeNs: bigint): bigint {
    return this.mtimeBound !== undefined && mtimeNs > this.mtimeBound ? this.mtimeBound : mtimeNs;
  }

  /** An unchanged name goes in only as a link to a changed name of its inode, once there is one. */
  private async linkUnmodified(change: Change): Promise<void> {
    const inode = inodeOf(change.stat as BigIntStats) as string;
    const firstName = this.inodes.get(inode);
    if (firstName === undefined) {
      this.unmodifiedNames.set(inode, [...(this.unmodifiedNames.get(inode) ?? []), change]);
      return;
    }
    await this.writeParents(change.path);
    await addEntry(this.pack, { ...this.headerOf(change), type: 'link', linkname: firstName, size: 0 });
  }

  private async writeParents(relative: string): Promise<void> {
    for (const dir of ancestors(relative)) {
      if (this.writtenDirs.has(dir)) continue;
      const source = path.join(this.upperRoot, dir);
      await this.write({ kind: 'modify', path: dir, source, stat: await fs.promises.lstat(fsPath(source), { bigint: true }) });
    }
  }
}
