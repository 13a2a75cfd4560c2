// Applies a layer's tar stream onto a directory with the semantics of
// containerd's archive.Apply: entries replace what is there (directories
// merge), parents are created as needed, ownership, modes, xattrs and times
// are kept, and directory times are set last. OCI whiteouts either remove
// lower content (a plain directory) or become overlay whiteouts (an upper dir).
import type { Readable } from 'node:stream';
import fs from 'node:fs/promises';
import fsSync, { constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { invalidArgument } from '../errdefs';
import { syscalls } from '../native/syscalls';
import { bytePath, fromFs, fsPath, shown, type BytePath } from './byte-paths';
import type { DeferredMarkers } from './deferred-markers';
import { FileBatches } from './file-batches';
import { copyLowerDirectory, lstatIfExists, markOpaque, writeWhiteoutMarker } from './overlay-markers';
import { PathHashes } from './path-hashes';
import { XATTR_PREFIX, xattrValue } from './pax-records';
import { RootResolver } from './root-path';
import { forEachTarEntry, type TarHeader } from './tar-entries';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export interface OverlayUpper {
  /** Lower dirs, nearest first: new parent directories copy their attributes. */
  parents: string[];
  /** trusted.overlay.opaque, or user.overlay.opaque with userxattr. */
  opaqueXattr: string;
}

export interface ApplyTarget {
  root: string;
  /** Set when root is an overlay upper dir: whiteouts are written as overlay's. */
  overlay?: OverlayUpper;
  /**
   * Set when root is a snapshot with no parent yet that a Commit may give
   * one: what an upper dir would hold is recorded for then.
   */
  deferred?: DeferredMarkers;
}

interface EntryTimes {
  atime: number;
  mtime: number;
}

export async function applyTar(input: AsyncIterable<Buffer>, target: ApplyTarget, log: Logger): Promise<void> {
  const applier = new TarApplier(target, log);
  try {
    await forEachTarEntry(input, (header, body) => applier.apply(header, body));
  } catch (err) {
    await applier.abandon();
    throw err;
  }
  await applier.finish();
}

// Regular files go to the thread pool, many at once; the rest (directories,
// links, attributes) are single metadata syscalls of a few microseconds,
// made synchronously: a trip to the pool costs more than the call.

/**
 * Regular files up to this size are buffered and written in parallel, each
 * in one trip to the thread pool. A larger file streams in six or more trips,
 * one after another.
 */
const BUFFERED_FILE = 4 * 1024 * 1024;
const MAX_IN_FLIGHT = 64;
/** The buffered bytes in flight, so that memory stays bounded whatever the files' sizes. */
const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

class TarApplier {
  private readonly root: BytePath;
  /** The overlay's lower dirs, nearest first. */
  private readonly lowers: BytePath[];
  /**
   * Entries this layer unpacked into directories that predate it: an opaque
   * marker that comes after them must keep them. What lands in a directory
   * of ownDirs needs no record, so a layer unpacked into an empty snapshot
   * records almost nothing.
   */
  private readonly unpacked = new Set<string>();
  /** Directory entries, by name: their times are set last, re-resolved inside the root. */
  private readonly directories: { name: string; times: EntryTimes }[] = [];
  /** Resolves parents inside the root; anything that can change a resolution clears it. */
  private readonly resolver: RootResolver;
  /** Directories this apply created empty, and that are still there: nothing inside them predates it. */
  private readonly createdDirs = new Set<string>();
  /**
   * Every directory this apply created, never forgotten: whatever is inside
   * one now came from this layer, even after a removal cleared createdDirs.
   */
  private readonly ownDirs = new Set<string>();
  /** Every path this apply created, entries and the parents made for them. */
  private readonly created = new PathHashes();
  /** Parents found to be directories already, so each is looked at once. */
  private readonly knownDirs = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private inFlightBytes = 0;
  private readonly batches = new FileBatches();
  private writeError: unknown;

  constructor(
    private readonly target: ApplyTarget,
    private readonly log: Logger,
  ) {
    this.root = bytePath(path.resolve(target.root));
    this.lowers = (target.overlay?.parents ?? []).map(bytePath);
    this.resolver = new RootResolver(this.root);
  }

  async apply(header: TarHeader, data: Readable): Promise<void> {
    if (this.writeError !== undefined) throw this.writeError;
    checkNames(header);
    const name = path.posix.normalize(header.name);
    const parent = this.resolver.resolve(path.posix.dirname(name));
    // Joining the base to "/" first turns a base of ".." into nothing.
    const target = path.resolve(parent, `.${path.posix.join('/', path.posix.basename(name))}`);
    if (target === this.root) return;
    if (path.dirname(target) !== this.root) {
      await this.settleParents(path.dirname(target));
      this.makeParent(path.dirname(target));
    }

    const base = path.basename(target);
    if (base === OPAQUE_MARKER || base.startsWith(WHITEOUT_PREFIX)) {
      if (this.target.overlay) {
        await this.overlayWhiteout(path.dirname(target), base, header, this.target.overlay.opaqueXattr);
        return;
      }
      await this.whiteout(path.dirname(target), base, header);
      return;
    }
    await this.settle(target);
    if (this.mayExist(target)) {
      const existing = lstatIfExists(target);
      if (existing && !(existing.isDirectory() && header.type === 'directory')) await this.remove(target, existing);
    }
    if (!this.ownDirs.has(path.dirname(target))) this.unpacked.add(target);
    this.created.add(target);
    if ((header.type === 'file' || header.type === 'contiguous-file') && (header.size ?? 0) <= BUFFERED_FILE) {
      await this.bufferAndWrite(target, header, data);
      return;
    }
    // A hardlink's target may still be being written. Nothing else waits: an
    // in-flight write's parents are directories already, and replacing one
    // (or the same path) waited above.
    if (header.type === 'link') await this.barrier();
    await this.create(target, header, data);
    if (header.type !== 'file' && header.type !== 'contiguous-file') this.setAttributes(target, header);
  }

  private forgetResolutions(): void {
    this.forgetLinks();
    this.createdDirs.clear();
    this.created.clear();
  }

  /** A link was made or removed: a later entry's parent may resolve differently now. */
  private forgetLinks(): void {
    this.resolver.forget();
    this.knownDirs.clear();
  }

  private mayExist(target: string): boolean {
    return !this.createdDirs.has(path.dirname(target)) || this.created.mayHave(target);
  }

  /**
   * A parent may be a file still waiting in a batch (a directory replaced by
   * a file, then an entry below it): it must exist before makeParent looks,
   * or makeParent would create a directory where the file is about to go.
   */
  private async settleParents(dir: string): Promise<void> {
    if (this.inFlight.size === 0) return;
    for (let d = dir; d !== this.root && !this.createdDirs.has(d) && !this.knownDirs.has(d); d = path.dirname(d)) await this.settle(d);
  }

  /** Removes what a redeclared entry replaces, or a whiteout names. */
  private async remove(target: string, existing: fsSync.Stats): Promise<void> {
    if (existing.isDirectory()) {
      // Writes in flight may be beneath it, and what this apply made there goes with it.
      await this.settleBeneath(target);
      this.forgetResolutions();
      await syscalls.removeTree(fsPath(target));
      this.target.deferred?.removedDirectory(this.relative(target));
      return;
    }
    // Nothing lies beneath a file, link or device: no other write waits.
    fsSync.unlinkSync(fsPath(target));
    if (existing.isSymbolicLink()) this.forgetLinks();
  }

  /** Waits for the buffered write to `target`, if one is in flight, surfacing the first failure. */
  private async settle(target: string): Promise<void> {
    const write = this.inFlight.get(target);
    if (!write) return;
    this.batches.flush();
    await write;
    if (this.writeError !== undefined) throw this.writeError;
  }

  /** Waits for the buffered writes in flight beneath `dir` (at most MAX_IN_FLIGHT to look through), surfacing the first failure. */
  private async settleBeneath(dir: string): Promise<void> {
    const prefix = `${dir}/`;
    const beneath = [...this.inFlight].filter(([target]) => target.startsWith(prefix)).map(([, write]) => write);
    if (beneath.length === 0) return;
    this.batches.flush();
    await Promise.all(beneath);
    if (this.writeError !== undefined) throw this.writeError;
  }

  /** Waits for every buffered write in flight, surfacing the first failure. */
  private async barrier(): Promise<void> {
    this.batches.flush();
    await Promise.all(this.inFlight.values());
    if (this.writeError !== undefined) throw this.writeError;
  }

  private async bufferAndWrite(target: string, header: TarHeader, data: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of data) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    while (
      this.inFlight.size >= MAX_IN_FLIGHT ||
      (this.inFlight.size > 0 && this.inFlightBytes + body.length > MAX_IN_FLIGHT_BYTES)
    ) {
      this.batches.flush();
      await Promise.race(this.inFlight.values());
    }
    this.inFlightBytes += body.length;
    const write = this.writeBufferedFile(target, header, body)
      .catch((err) => {
        this.writeError ??= err;
      })
      .finally(() => {
        this.inFlight.delete(target);
        this.inFlightBytes -= body.length;
      });
    this.inFlight.set(target, write);
  }

  /** Most files carry no xattrs: those go to the thread pool in batches, instead of six trips each. */
  private writeBufferedFile(target: string, header: TarHeader, body: Buffer): Promise<void> {
    const pax = header.pax ?? {};
    if (Object.keys(pax).some((key) => key.startsWith(XATTR_PREFIX))) return this.writeFile(target, header, [body]);
    const { atime, mtime } = entryTimes(header);
    const { uid, gid } = entryOwner(header);
    return this.batches.write([fsPath(target), body, entryMode(header), uid, gid, atime, mtime]);
  }

  private async writeFile(target: string, header: TarHeader, body: AsyncIterable<unknown> | Buffer[]): Promise<void> {
    const mode = entryMode(header);
    const file = await fs.open(fsPath(target), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await writeBatched(file, body);
      const pax = header.pax ?? {};
      const { uid, gid } = entryOwner(header);
      await file.chown(uid, gid);
      this.setXattrs(target, pax);
      // After chown, which clears setuid and setgid bits.
      await file.chmod(mode);
      const { atime, mtime } = entryTimes(header);
      await file.utimes(atime, mtime);
    } finally {
      await file.close();
    }
  }

  private async create(target: string, header: TarHeader, data: Readable): Promise<void> {
    const mode = entryMode(header);
    switch (header.type) {
      case 'directory':
        if (!this.mayExist(target) || !lstatIfExists(target)?.isDirectory()) {
          fsSync.mkdirSync(fsPath(target), mode);
          this.createdDirs.add(target);
          this.ownDirs.add(target);
        } else {
          this.target.deferred?.declaredDirectory(this.relative(target));
        }
        this.directories.push({ name: target.slice(this.root.length), times: entryTimes(header) });
        return;
      case 'file':
      case 'contiguous-file':
        await this.writeFile(target, header, data);
        return;
      case 'symlink':
        // What this apply created is unchanged, since nothing was removed.
        this.forgetLinks();
        fsSync.symlinkSync(fsPath(header.linkname ?? ''), fsPath(target));
        return;
      case 'link':
        try {
          fsSync.linkSync(fsPath(this.hardlinkTarget(header.linkname ?? '')), fsPath(target));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw invalidArgument(`hardlink ${shown(header.name)}: target ${shown(header.linkname ?? '')} is not in the snapshot`);
          if (code === 'EPERM') throw invalidArgument(`hardlink ${shown(header.name)}: target ${shown(header.linkname ?? '')} is a directory`);
          throw err;
        }
        return;
      case 'character-device':
        syscalls.mknod(fsPath(target), constants.S_IFCHR | mode, header.devmajor ?? 0, header.devminor ?? 0);
        return;
      case 'block-device':
        syscalls.mknod(fsPath(target), constants.S_IFBLK | mode, header.devmajor ?? 0, header.devminor ?? 0);
        return;
      case 'fifo':
        syscalls.mknod(fsPath(target), constants.S_IFIFO | mode, 0, 0);
        return;
      default:
        throw invalidArgument(`unhandled tar entry type ${header.type} for ${shown(header.name)}`);
    }
  }

  /** A hardlink may only point at something already inside the root: rootPath keeps it there. */
  private hardlinkTarget(linkname: string): string {
    const parent = this.resolver.resolve(path.posix.dirname(path.posix.normalize(linkname)));
    return path.resolve(parent, `.${path.posix.join('/', path.posix.basename(linkname))}`);
  }

  private setXattrs(target: string, pax: Record<string, string>, symlink = false): void {
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith(XATTR_PREFIX)) continue;
      const name = key.slice(XATTR_PREFIX.length);
      if (!layerMaySet(name)) {
        this.log.warn({ xattr: name, path: shown(target) }, 'ignored an xattr a layer may not set');
        continue;
      }
      try {
        syscalls.lsetxattr(fsPath(target), name, xattrValue(value));
      } catch (err) {
        // containerd skips what the filesystem cannot store, and user xattrs
        // on symlinks, which Linux refuses; it fails on the rest.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'E2BIG' || code === 'ERANGE') throw invalidArgument(`xattr ${name} of ${shown(target.slice(this.root.length))} is larger than the filesystem takes`);
        if (!(code === 'ENOTSUP' || (code === 'EPERM' && symlink && name.startsWith('user.')))) throw err;
        this.log.warn({ xattr: name, path: shown(target) }, 'ignored xattr the filesystem cannot store');
      }
    }
  }

  private setAttributes(target: string, header: TarHeader): void {
    const pax = header.pax ?? {};
    const { uid, gid } = entryOwner(header);
    fsSync.lchownSync(fsPath(target), uid, gid);
    // A symlink has no mode of its own, and chmod would follow it out of the
    // snapshot; a hardlink can name a symlink too.
    const isSymlink = header.type === 'symlink' || (header.type === 'link' && fsSync.lstatSync(fsPath(target)).isSymbolicLink());
    this.setXattrs(target, pax, isSymlink);
    // After lchown, which may clear setuid and setgid bits.
    if (!isSymlink) fsSync.chmodSync(fsPath(target), entryMode(header));
    if (header.type !== 'directory') {
      const { atime, mtime } = entryTimes(header);
      fsSync.lutimesSync(fsPath(target), atime, mtime);
    }
  }

  /**
   * Into an overlay's upper dir a whiteout deletes nothing: it is a marker
   * (a 0/0 device, or the opaque xattr) for overlayfs to hide the lower
   * layers with. No write in flight can be affected, so none is waited for,
   * except one to the marker's own path.
   */
  private async overlayWhiteout(dir: string, base: string, header: TarHeader, opaqueXattr: string): Promise<void> {
    if (base === OPAQUE_MARKER) {
      markOpaque(dir, opaqueXattr);
      return;
    }
    const marker = path.join(dir, whiteoutOf(base, header));
    await this.settle(marker);
    const { uid, gid } = entryOwner(header);
    writeWhiteoutMarker(marker, uid, gid);
    this.created.add(marker);
  }

  /**
   * Outside an overlay a whiteout removes. Removing a file, link or device
   * waits only for a write to its own path; a directory, or an opaque
   * marker's, may have writes in flight beneath it, so those wait for all.
   */
  private async whiteout(dir: string, base: string, header: TarHeader): Promise<void> {
    if (base === OPAQUE_MARKER) {
      await this.settleBeneath(dir);
      this.forgetResolutions();
      // Lower content goes; what this layer already unpacked stays.
      await this.removeExceptUnpacked(dir);
      this.target.deferred?.opaque(this.relative(dir));
      return;
    }
    const target = path.join(dir, whiteoutOf(base, header));
    await this.settle(target);
    const existing = lstatIfExists(target);
    if (existing) await this.remove(target, existing);
    if (this.target.deferred) {
      const { uid, gid } = entryOwner(header);
      this.target.deferred.whiteout(this.relative(target), uid, gid);
    }
  }

  private async removeExceptUnpacked(dir: string): Promise<void> {
    // What is in a directory this apply made is all this layer's.
    if (this.ownDirs.has(dir)) return;
    const entries = await fs.readdir(fsPath(dir), { withFileTypes: true, encoding: 'buffer' }).catch(() => [] as fsSync.Dirent<Buffer>[]);
    for (const entry of entries) {
      const child = path.join(dir, fromFs(entry.name));
      if (this.unpacked.has(child) || this.ownDirs.has(child)) {
        if (entry.isDirectory()) await this.removeExceptUnpacked(child);
      } else if (entry.isDirectory()) {
        await syscalls.removeTree(fsPath(child));
        this.target.deferred?.removedDirectory(this.relative(child));
      } else {
        fsSync.unlinkSync(fsPath(child));
      }
    }
  }

  /** Creates missing parents (0755), copying attributes from the same directory in a lower layer. */
  private makeParent(dir: string): void {
    if (this.createdDirs.has(dir) || this.knownDirs.has(dir)) return;
    const existing = lstatIfExists(dir);
    if (existing) {
      if (existing.isDirectory()) {
        this.knownDirs.add(dir);
        return;
      }
      throw invalidArgument(`cannot create ${shown(dir.slice(this.root.length))}: a parent is not a directory`);
    }
    if (path.dirname(dir) !== this.root) this.makeParent(path.dirname(dir));
    fsSync.mkdirSync(fsPath(dir), 0o755);
    this.createdDirs.add(dir);
    this.ownDirs.add(dir);
    this.created.add(dir);
    this.target.deferred?.madeDirectory(this.relative(dir));
    const lower = copyLowerDirectory(dir, this.lowers, this.relative(dir));
    if (lower) fsSync.utimesSync(fsPath(dir), lower.atime, lower.mtime);
  }

  /** A path under the root as the layer names it: '/' and the rest. */
  private relative(target: string): string {
    return target.slice(this.root.length);
  }

  /** Waits for writes in flight, then sets directory times, since creating entries changes them. */
  async finish(): Promise<void> {
    await this.barrier();
    // A later entry may have replaced the directory, or any of its parents,
    // with a symlink: resolve again inside the root and touch only directories.
    const final = new RootResolver(this.root);
    for (const { name, times } of this.directories) {
      const dir = final.resolve(name);
      // Synchronous, like the other metadata calls: a pool trip costs more than the call.
      if (lstatIfExists(dir)?.isDirectory()) fsSync.lutimesSync(fsPath(dir), times.atime, times.mtime);
    }
  }

  /** Lets writes in flight settle before the caller reports a failure. */
  async abandon(): Promise<void> {
    this.batches.flush();
    await Promise.all(this.inFlight.values());
  }
}

/** A large file's pieces are gathered into writes of this size: fewer trips to the thread pool. */
const WRITE_BATCH = 1 << 20;

async function writeBatched(file: fs.FileHandle, body: AsyncIterable<unknown> | Buffer[]): Promise<void> {
  let batch: Buffer[] = [];
  let batched = 0;
  for await (const chunk of body) {
    batch.push(chunk as Buffer);
    batched += (chunk as Buffer).length;
    if (batched < WRITE_BATCH) continue;
    await writeAll(file, batch, batched);
    batch = [];
    batched = 0;
  }
  if (batched > 0) await writeAll(file, batch, batched);
}

async function writeAll(file: fs.FileHandle, buffers: Buffer[], length: number): Promise<void> {
  const { bytesWritten } = await file.writev(buffers);
  // A short write (a signal, a filling disk) leaves the rest to write again.
  let rest = bytesWritten < length ? Buffer.concat(buffers).subarray(bytesWritten) : undefined;
  while (rest && rest.length > 0) {
    const written = await file.write(rest);
    rest = rest.subarray(written.bytesWritten);
  }
}

/**
 * Which xattrs a layer may set. trusted.* steers overlayfs (redirects,
 * metacopy, opaque: strata sets the last itself, from whiteout markers) and
 * security.* other than file capabilities is the host's LSM labels; neither
 * is the image author's to choose. user.* and POSIX ACLs are.
 */
function layerMaySet(name: string): boolean {
  return name.startsWith('user.') || name === 'security.capability' || name === 'system.posix_acl_access' || name === 'system.posix_acl_default';
}

/** Linux's limits: a longer name or link cannot be created, and would only fail deep in a syscall. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

function checkNames(header: TarHeader): void {
  for (const [what, value] of [['name', header.name], ['link target', header.linkname ?? '']] as const) {
    if (value.length >= PATH_MAX) throw invalidArgument(`${what} of ${shown(value.slice(0, 64))}... is longer than PATH_MAX (${PATH_MAX} bytes)`);
    if (value.split('/').some((part) => part.length > NAME_MAX)) {
      throw invalidArgument(`${what} ${shown(value.slice(0, 64))}... has a component longer than NAME_MAX (${NAME_MAX} bytes)`);
    }
  }
}

/** The name a whiteout entry removes, refused if it is not one name in its directory. */
function whiteoutOf(base: string, header: TarHeader): string {
  const original = base.slice(WHITEOUT_PREFIX.length);
  if (original === '' || original === '.' || original === '..' || original.includes('/')) {
    throw invalidArgument(`invalid whiteout name ${shown(header.name)}`);
  }
  return original;
}

function paxNumber(pax: Record<string, string>, key: 'uid' | 'gid'): number | undefined {
  const value = pax[key];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw invalidArgument(`invalid PAX ${key} ${JSON.stringify(value)}`);
  return Number(value);
}

function entryMode(header: TarHeader): number {
  return (header.mode ?? 0o644) & 0o7777;
}

/** A PAX uid or gid overrides the ustar header's. */
function entryOwner(header: TarHeader): { uid: number; gid: number } {
  const pax = header.pax ?? {};
  return { uid: paxNumber(pax, 'uid') ?? header.uid ?? 0, gid: paxNumber(pax, 'gid') ?? header.gid ?? 0 };
}

function entryTimes(header: TarHeader): EntryTimes {
  const pax = header.pax ?? {};
  const mtime = pax.mtime !== undefined ? Number(pax.mtime) : (header.mtime?.getTime() ?? 0) / 1000;
  const atime = pax.atime !== undefined ? Math.max(Number(pax.atime), mtime) : mtime;
  return { atime, mtime };
}
