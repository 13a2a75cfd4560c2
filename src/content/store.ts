// The content store: blobs addressed by digest, with labels, and resumable
// ingests. Metadata is in the shared SQLite database; blob files are
// read-only once committed.
import fs from 'fs-extra';
import { Readable } from 'node:stream';
import path from 'node:path';
import type { Logger } from 'pino';
import { nowNs } from '../clock';
import { alreadyExists, inContext, invalidArgument, notFound, outOfRange, unavailable } from '../errdefs';
import { parseFilters } from '../filters';
import { updateLabels } from '../labels';
import type { MetadataDatabase } from '../metadata/database';
import * as meta from '../metadata/content-store';
import type { Labels } from '../metadata/label-table';
import type { Transactor } from '../metadata/transactor';
import { contentFields, ingestFields } from './content-filter';
import { newHash, parseDigest } from './digest';
import { IngestWriter, type IngestState } from './ingest-writer';
import { ContentLayout } from './layout';
import { OpenBlobs } from './open-blobs';
import { RefLocks } from './ref-locks';
import type { ContentInfo, IngestStatus } from './types';

/** containerd's gRPC Read sends at most this much per message. */
export const READ_CHUNK = 1 << 20;

/** Blob files kept open for Reads: more than containerd reads at once while it unpacks. */
const OPEN_BLOBS_KEPT = 64;

/** The bytes [start, end) of a committed blob, open for reading; the reader releases it once. */
export interface BlobRange {
  digest: string;
  start: number;
  end: number;
  file: fs.promises.FileHandle;
  release(): Promise<void>;
}

export class ContentStore {
  private readonly layout: ContentLayout;
  private readonly locks = new RefLocks();
  private readonly active = new Map<string, IngestWriter>();
  private readonly openBlobs = new OpenBlobs(OPEN_BLOBS_KEPT);
  private readonly committedListeners: ((digest: string, size: number) => void)[] = [];
  private readonly deletedListeners: ((digest: string) => void)[] = [];

  constructor(
    root: string,
    private readonly db: MetadataDatabase,
    private readonly writes: Transactor,
    private readonly log: Logger,
  ) {
    this.layout = new ContentLayout(root);
  }

  /** Makes the directories and drops what a crash left half-done. */
  async open(): Promise<void> {
    await fs.mkdirp(this.layout.blobsDir);
    await fs.mkdirp(this.layout.ingestDir);
    await this.writes.run(async (db) => {
      const ingests = meta.listIngests(db);
      const owned = new Set(ingests.map((i) => i.dir));
      for (const dir of await fs.readdir(this.layout.ingestDir)) {
        if (owned.has(dir)) continue;
        this.log.info({ dir }, 'removing ingest directory that no ingest owns');
        await fs.rm(path.join(this.layout.ingestDir, dir), { recursive: true, force: true });
      }
      for (const ingest of ingests) {
        const data = this.layout.ingestData(ingest.dir);
        if (await fs.pathExists(data)) continue;
        // Its data was renamed into blobs/ by a commit whose transaction never landed.
        meta.deleteIngest(db, ingest.ref);
        await fs.rm(path.dirname(data), { recursive: true, force: true });
      }
      const known = new Set(meta.listBlobs(db).map((b) => this.layout.blobPath(b.digest)));
      for (const algorithm of await fs.readdir(this.layout.blobsDir)) {
        for (const name of await fs.readdir(path.join(this.layout.blobsDir, algorithm))) {
          const file = path.join(this.layout.blobsDir, algorithm, name);
          if (known.has(file)) continue;
          // Renamed into place by a commit whose transaction never landed.
          this.log.info({ file }, 'removing blob file that no blob owns');
          await fs.rm(file, { force: true });
        }
      }
    });
  }

  /** Calls `listener` with every blob committed from now on, once it is durable. */
  onCommitted(listener: (digest: string, size: number) => void): void {
    this.committedListeners.push(listener);
  }

  /** Calls `listener` with every blob deleted from now on, once its row is gone. */
  onDeleted(listener: (digest: string) => void): void {
    this.deletedListeners.push(listener);
  }

  info(digest: string): Promise<ContentInfo> {
    return inContext(`info ${digest}`, () => {
      parseDigest(digest);
      return meta.getBlob(this.db.reader, digest);
    });
  }

  update(digest: string, labels: Labels, fieldpaths: readonly string[]): Promise<ContentInfo> {
    return inContext(`update ${digest}`, () => {
      parseDigest(digest);
      return this.writes.run((db) => {
        const current = meta.getBlob(db, digest);
        meta.setBlobLabels(db, digest, updateLabels(current.labels, labels, fieldpaths, `content ${digest}`), nowNs());
        return meta.getBlob(db, digest);
      });
    });
  }

  async list(filters: readonly string[]): Promise<ContentInfo[]> {
    const filter = parseFilters(filters);
    return meta.listBlobs(this.db.reader).filter((info) => filter.match(contentFields(info)));
  }

  /** `precondition` runs first in the transaction, and may throw to leave the blob be. */
  delete(digest: string, precondition?: () => void): Promise<void> {
    return inContext(`delete ${digest}`, () => {
      parseDigest(digest);
      // The file goes after the commit but before any other writer runs: a
      // commit of the same digest in between would otherwise lose its file.
      return this.writes.run(
        (db) => {
          precondition?.();
          meta.deleteBlob(db, digest);
        },
        async () => {
          for (const listener of this.deletedListeners) listener(digest);
          await this.openBlobs.forget(digest);
          await fs.rm(this.layout.blobPath(digest), { force: true });
        },
      );
    });
  }

  /** The bytes [offset, offset+size) of a blob of blobSize bytes; size <= 0 means to the end. */
  private static range(blobSize: number, offset: number, size: number): { start: number; end: number } {
    const start = Math.max(offset, 0);
    if (start > blobSize) throw outOfRange(`read past object length ${blobSize} bytes`);
    return { start, end: size <= 0 || start + size > blobSize ? blobSize : start + size };
  }

  /** Opened after its row was read, so a blob deleted in between is NotFound rather than a failed read. */
  private openBlob(digest: string): Promise<fs.promises.FileHandle> {
    return fs.promises.open(this.layout.blobPath(digest), 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(`content ${digest} does not exist`) : err;
    });
  }

  /**
   * Opens the bytes [offset, offset+size) of a blob; size <= 0 means to the
   * end. The file may be shared with other Reads of the same blob.
   */
  openRange(digest: string, offset: number, size: number): Promise<BlobRange> {
    return inContext(`read ${digest}`, async () => {
      parseDigest(digest);
      const blob = await this.openBlobs.acquire(digest, () => ({
        size: meta.getBlobSize(this.db.reader, digest),
        open: () => this.openBlob(digest),
      }));
      try {
        return { digest, ...ContentStore.range(blob.size, offset, size), file: blob.file, release: blob.release };
      } catch (err) {
        await blob.release();
        throw err;
      }
    });
  }

  /** The bytes [offset, offset+size) of a blob as a stream; size <= 0 means to the end. */
  read(digest: string, offset: number, size: number): Promise<{ offset: number; stream: Readable }> {
    return inContext(`read ${digest}`, async () => {
      parseDigest(digest);
      const { start, end } = ContentStore.range(meta.getBlobSize(this.db.reader, digest), offset, size);
      if (end === start) return { offset: start, stream: Readable.from([]) };
      const file = await this.openBlob(digest);
      // createReadStream's end is inclusive.
      return { offset: start, stream: file.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK }) };
    });
  }

  status(ref: string): Promise<IngestStatus> {
    return inContext(`status ${ref}`, async () => {
      const live = this.active.get(ref);
      if (live) return live.status();
      const row = meta.findIngest(this.db.reader, ref);
      if (!row) throw notFound(`ingest ${ref} does not exist`);
      return this.storedStatus(row);
    });
  }

  async listStatuses(filters: readonly string[]): Promise<IngestStatus[]> {
    const filter = parseFilters(filters);
    const statuses = await Promise.all(
      meta.listIngests(this.db.reader).map((row) => this.active.get(row.ref)?.status() ?? this.storedStatus(row)),
    );
    return statuses.filter((s) => filter.match(ingestFields(s)));
  }

  abort(ref: string): Promise<void> {
    return inContext(`abort ${ref}`, async () => {
      if (this.locks.isLocked(ref)) throw unavailable(`ref ${ref} is being written`);
      // Held until the directory is gone, so a new writer cannot start on it meanwhile.
      const lock = await this.locks.acquire(ref);
      try {
        const found = meta.findIngest(this.db.reader, ref);
        if (!found) throw notFound(`ingest ${ref} does not exist`);
        // The space goes first: on a full disk, often full of this very
        // ingest, SQLite needs room to record the delete. Should that still
        // fail, or the server die here, the ingest is whole, just empty.
        await fs.truncate(this.layout.ingestData(found.dir), 0).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        const row = await this.writes.run((db) => {
          const current = meta.findIngest(db, ref);
          if (!current) throw notFound(`ingest ${ref} does not exist`);
          meta.deleteIngest(db, ref);
          return current;
        });
        await fs.rm(path.dirname(this.layout.ingestData(row.dir)), { recursive: true, force: true });
      } finally {
        lock.release();
      }
    });
  }

  exists(digest: string): boolean {
    return meta.blobExists(this.db.reader, digest);
  }

  /** Opens the ingest for ref, resuming where an earlier writer stopped. */
  openWriter(ref: string, total: number, expected: string): Promise<IngestWriter> {
    return inContext(`write ${ref}`, async () => {
      if (ref === '') throw invalidArgument('ref must not be empty');
      if (expected !== '') {
        parseDigest(expected);
        if (this.exists(expected)) throw alreadyExists(`content ${expected} already exists`);
      }
      const lock = await this.locks.acquire(ref);
      try {
        const state = await this.openIngest(ref, total, expected);
        const data = this.layout.ingestData(state.dirName);
        const hash = newHash();
        // A resumed ingest's running digest is rebuilt from the data on disk.
        for await (const chunk of fs.createReadStream(data, { highWaterMark: READ_CHUNK })) hash.update(chunk as Buffer);
        state.offset = (await fs.stat(data)).size;
        const file = await fs.promises.open(data, 'r+');
        const writer = new IngestWriter(
          state,
          file,
          hash,
          lock,
          this.layout,
          this.writes,
          (w) => this.active.delete(w.ref),
          (digest, size) => {
            for (const listener of this.committedListeners) listener(digest, size);
          },
        );
        this.active.set(ref, writer);
        return writer;
      } catch (err) {
        lock.release();
        throw err;
      }
    });
  }

  private openIngest(ref: string, total: number, expected: string): Promise<IngestState> {
    return this.writes.run(async (db) => {
      const row = meta.findIngest(db, ref);
      if (row) {
        return {
          ref,
          dirName: row.dir,
          total: total > 0 ? total : row.total,
          expected: expected !== '' ? expected : row.expected,
          started: row.started_ns,
          updated: row.updated_ns,
          offset: 0,
        };
      }
      const dirName = this.layout.ingestDirName(ref);
      const data = this.layout.ingestData(dirName);
      await fs.rm(path.dirname(data), { recursive: true, force: true });
      await fs.mkdirp(path.dirname(data));
      await fs.writeFile(data, '');
      const now = nowNs();
      meta.insertIngest(db, { ref, dir: dirName, total, expected, started_ns: now, updated_ns: now });
      return { ref, dirName, total, expected, started: now, updated: now, offset: 0 };
    });
  }

  private async storedStatus(row: meta.IngestRow): Promise<IngestStatus> {
    const size = await fs.stat(this.layout.ingestData(row.dir)).then(
      (st) => st.size,
      () => 0,
    );
    return {
      ref: row.ref,
      offset: size,
      total: row.total,
      expected: row.expected,
      started: row.started_ns,
      updated: row.updated_ns,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.active.values()].map((w) => w.close()));
    await this.openBlobs.close();
  }
}
