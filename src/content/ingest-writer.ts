// One open ingest: appends at its offset, keeps a running digest, and commits
// the way containerd's local store does: fsync the data, verify size and
// digest, rename into place, fsync the directory.
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import fs from 'fs-extra';
import path from 'node:path';
import { nowNs, type Nanos } from '../clock';
import { alreadyExists, failedPrecondition } from '../errdefs';
import { validateLabels } from '../labels';
import * as meta from '../metadata/content-store';
import type { Labels } from '../metadata/label-table';
import type { Transactor } from '../metadata/transactor';
import { syncDirectory } from '../sync-directory';
import { digestOf, newHash } from './digest';
import type { ContentLayout } from './layout';
import type { RefLock } from './ref-locks';
import type { IngestStatus } from './types';

export interface IngestState {
  ref: string;
  dirName: string;
  total: number;
  expected: string;
  started: Nanos;
  updated: Nanos;
  offset: number;
}

export class IngestWriter {
  private done = false;
  private closed = false;

  constructor(
    private readonly state: IngestState,
    private readonly file: FileHandle,
    private hash: Hash,
    private readonly lock: RefLock,
    private readonly layout: ContentLayout,
    private readonly writes: Transactor,
    private readonly onClose: (writer: IngestWriter) => void,
    /** Told of every blob this writer commits, once it is durable. */
    private readonly onCommitted: (digest: string, size: number) => void,
  ) {}

  get ref(): string {
    return this.state.ref;
  }

  status(): IngestStatus {
    const { ref, offset, total, expected, started, updated } = this.state;
    return { ref, offset, total, expected, started, updated };
  }

  digest(): string {
    return digestOf(this.hash);
  }

  /** Later messages may name the size and digest the first one left out. */
  expect(total: number, expected: string): void {
    if (total > 0) this.state.total = total;
    if (expected !== '') this.state.expected = expected;
  }

  async truncate(): Promise<void> {
    await this.file.truncate(0);
    this.hash = newHash();
    this.state.offset = 0;
    this.state.updated = nowNs();
  }

  async write(data: Buffer): Promise<void> {
    const writing = this.writeAt(data, this.state.offset);
    // Hashed while the thread pool writes; a failed write leaves the hash as it was.
    const before = this.hash.copy();
    this.hash.update(data);
    try {
      await writing;
    } catch (err) {
      this.hash = before;
      throw err;
    }
    this.state.offset += data.length;
    this.state.updated = nowNs();
  }

  private async writeAt(data: Buffer, position: number): Promise<void> {
    for (let written = 0; written < data.length; ) {
      const { bytesWritten } = await this.file.write(data, written, data.length - written, position + written);
      written += bytesWritten;
    }
  }

  async commit(size: number, expected: string, labels: Labels): Promise<string> {
    validateLabels(labels);
    await this.file.sync();
    const { offset } = this.state;
    if (size > 0 && size !== offset) {
      throw failedPrecondition(`unexpected commit size ${offset}, expected ${size}`);
    }
    const digest = this.digest();
    if (expected !== '' && expected !== digest) {
      throw failedPrecondition(`unexpected commit digest ${digest}, expected ${expected}`);
    }
    this.done = true;
    const data = this.layout.ingestData(this.state.dirName);
    const target = this.layout.blobPath(digest);
    const committed = await this.writes.run(async (db) => {
      meta.deleteIngest(db, this.state.ref);
      if (meta.blobExists(db, digest)) return false;
      await fs.chmod(data, 0o444);
      await fs.mkdirp(path.dirname(target));
      await fs.rename(data, target);
      await syncDirectory(path.dirname(target));
      meta.insertBlob(db, digest, offset, labels, nowNs());
      return true;
    });
    // The ingest is gone either way, as in containerd: a blob that exists already is not written twice.
    await this.removeIngestDir();
    if (!committed) throw alreadyExists(`content ${digest} already exists`);
    this.onCommitted(digest, offset);
    return digest;
  }

  /** The client is done with this writer; one opened next for its ref may wait for close(). */
  closing(): void {
    this.lock.closing();
  }

  /** Ends this writer: its progress is kept for a later writer to resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.file.close();
      if (!this.done) {
        const { ref, total, expected, updated } = this.state;
        await this.writes.run((db) => meta.updateIngest(db, ref, total, expected, updated));
      }
    } finally {
      this.lock.release();
      this.onClose(this);
    }
  }

  /** Ends this writer and drops its ingest, still holding the ref so no new writer sees it half gone. */
  async discard(): Promise<void> {
    this.done = true;
    await this.writes.run((db) => meta.deleteIngest(db, this.state.ref));
    await this.removeIngestDir();
    await this.close();
  }

  private async removeIngestDir(): Promise<void> {
    await fs.rm(path.dirname(this.layout.ingestData(this.state.dirName)), { recursive: true, force: true });
  }
}
