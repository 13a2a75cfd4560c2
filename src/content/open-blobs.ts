// Files of committed blobs, kept open between Reads with their sizes.
// containerd reads a layer through a content proxy with one Read RPC per tar
// read, 512 bytes for each header: opening and closing the file were two of
// a small Read's three thread-pool trips, and the size query a tenth of its
// time on the main thread.
import type fs from 'node:fs';

type FileHandle = fs.promises.FileHandle;

/** What a blob's metadata says when it is looked up; throws when the blob does not exist. */
export interface BlobOpener {
  size: number;
  open(): Promise<FileHandle>;
}

interface Entry {
  size: number;
  file: Promise<FileHandle>;
  users: number;
  /** Out of the cache: the file closes once its last user releases it. */
  dropped: boolean;
}

export interface OpenBlob {
  size: number;
  file: FileHandle;
  /** Call once, when no read on `file` is in flight any more. */
  release(): Promise<void>;
}

export class OpenBlobs {
  /** In order of use, least recent first. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly keep: number) {}

  /**
   * The blob's size and open file; `lookup` runs when they are not kept
   * already. It must be synchronous: a Delete that commits after it has run
   * then finds the entry to forget.
   */
  async acquire(digest: string, lookup: () => BlobOpener): Promise<OpenBlob> {
    let entry = this.entries.get(digest);
    if (entry) this.entries.delete(digest);
    else {
      const { size, open } = lookup();
      entry = { size, file: open(), users: 0, dropped: false };
    }
    this.entries.set(digest, entry);
    entry.users++;
    this.evict();
    const used = entry;
    let file: FileHandle;
    try {
      file = await used.file;
    } catch (err) {
      used.users--;
      // A failed open is not kept: the next Read tries again.
      if (this.entries.get(digest) === used) this.entries.delete(digest);
      throw err;
    }
    let released = false;
    return {
      size: used.size,
      file,
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        used.users--;
        return this.closeIfUnused(used);
      },
    };
  }

  /** Drops the blob's file, as when the blob is deleted: it closes once the Reads using it are done. */
  forget(digest: string): Promise<void> {
    const entry = this.entries.get(digest);
    if (!entry) return Promise.resolve();
    this.entries.delete(digest);
    return this.drop(entry);
  }

  /** Closes every file, each once the Reads using it are done. */
  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => this.drop(entry)));
  }

  private evict(): void {
    for (const [digest, entry] of this.entries) {
      if (this.entries.size <= this.keep) return;
      this.entries.delete(digest);
      void this.drop(entry);
    }
  }

  private drop(entry: Entry): Promise<void> {
    entry.dropped = true;
    return this.closeIfUnused(entry);
  }

  private async closeIfUnused(entry: Entry): Promise<void> {
    if (!entry.dropped || entry.users > 0) return;
    const file = await entry.file.catch(() => undefined);
    await file?.close();
  }
}
