// Deletes directories after the operation that dropped them has returned.
// Whoever needs them gone (Cleanup) waits with drain(). Each delete is an
// `rm -rf` of its own: a snapshot of millions of files goes at C speed,
// without a thread-pool trip per file, and close() can stop one part way,
// leaving the rest to the next Cleanup, which sweeps what no snapshot owns.
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import { Slots } from '../slots';

/** Deletes at once: a collection that drops hundreds of snapshots starts no more processes than this. */
const CONCURRENT_DELETES = 2;

export class BackgroundRemovals {
  /** Directories being deleted, and the deletes. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly turns = new Slots(CONCURRENT_DELETES);
  private readonly stopping = new AbortController();

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
    this.stopping.abort();
    await this.drain();
  }

  private async remove(dir: string): Promise<void> {
    const release = await this.turns.take(this.stopping.signal);
    try {
      await new Promise<void>((resolve, reject) => {
        execFile('rm', ['-rf', '--one-file-system', '--', dir], { signal: this.stopping.signal }, (err, _stdout, stderr) =>
          err ? reject(new Error(`rm -rf ${dir}: ${stderr.trim() || err.message}`)) : resolve(),
        );
      });
    } finally {
      release();
    }
  }
}
