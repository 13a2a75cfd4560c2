// Deletes directories after the operation that dropped them has returned.
// Whoever needs them gone (Cleanup) waits with drain(). Each delete is one
// removeTree job: a snapshot of millions of files goes at C speed, without a
// thread-pool trip per file, and close() can stop one part way, leaving the
// rest to the next Cleanup, which sweeps what no snapshot owns. (An `rm -rf`
// per delete did the same, but spawning it held the JS thread for about 3 ms,
// so a Remove took five times as long.)
import type { Logger } from 'pino';
import { syscalls } from '../native/syscalls';
import { Slots } from '../slots';

/** One delete at a time holds one of libuv's four threads, leaving the others to applies and fsyncs. */
const CONCURRENT_DELETES = 1;

export class BackgroundRemovals {
  /** Directories being deleted, and the deletes. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly turns = new Slots(CONCURRENT_DELETES);
  private readonly stopping = new AbortController();
  /** stop[0] set ends the delete under way; the thread pool reads it. */
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly log: Logger) {}

  add(dir: string): void {
    const removal = this.remove(dir)
      // Left for the next Cleanup, which sweeps what no snapshot owns.
      .catch((err: unknown) => {
        if (!this.stopping.signal.aborted) this.log.warn({ err, dir }, 'failed to remove snapshot directory');
      })
      .finally(() => this.pending.delete(dir));
    this.pending.set(dir, removal);
  }

  has(dir: string): boolean {
    return this.pending.has(dir);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  /** Stops the deletes under way; what they leave, the next Cleanup removes. */
  async close(): Promise<void> {
    Atomics.store(this.stop, 0, 1);
    this.stopping.abort();
    await this.drain();
  }

  private async remove(dir: string): Promise<void> {
    // Handed to the thread pool only once the operation that dropped the
    // directory has sent its reply: waking a pool thread cost 40 µs of the
    // main thread's time on the 2-core VM, which every Remove waited for.
    await new Promise((resolve) => setImmediate(resolve));
    const release = await this.turns.take(this.stopping.signal);
    try {
      await syscalls.removeTree(dir, this.stop);
    } finally {
      release();
    }
  }
}
