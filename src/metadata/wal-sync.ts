// Group commit for SQLite's write-ahead log. With synchronous = NORMAL a
// COMMIT only writes the log; this fsyncs it in the thread pool, once for
// every commit made while the previous fsync ran. A commit is durable once its
// flush() resolves, as FULL would have made it inside COMMIT, but without
// holding the event loop for the fsync and without one fsync per commit.
import fs from 'node:fs';
import path from 'node:path';
import { syncDirectory } from '../sync-directory';

const fsyncInPool = (fd: number) =>
  new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));

export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly walPath: string,
    private readonly fsync: (fd: number) => Promise<void> = fsyncInPool,
  ) {}

  /** Resolves once everything committed before the call is on disk. */
  flush(): Promise<void> {
    if (!this.running) {
      this.running = this.sync().finally(() => (this.running = undefined));
      return this.running;
    }
    // The fsync in flight may have started before this commit: wait for the next one.
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.flush();
      });
    return this.queued;
  }

  private async sync(): Promise<void> {
    if (this.fd === undefined) {
      // The log is created by the first write; its directory entry must last too.
      this.fd = fs.openSync(this.walPath, 'r');
      await syncDirectory(path.dirname(this.walPath));
    }
    await this.fsync(this.fd);
  }

  /** Closes the log's descriptor once any fsync in flight is done. */
  close(): void {
    const closeFd = () => {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = undefined;
    };
    if (this.running) void this.running.catch(() => undefined).then(closeFd);
    else closeFd();
  }
}
