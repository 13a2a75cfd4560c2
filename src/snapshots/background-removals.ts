// Deletes directories after the operation that dropped them has returned.
// Whoever needs them gone (Cleanup, shutdown) waits with drain().
import fs from 'node:fs/promises';
import type { Logger } from 'pino';

export class BackgroundRemovals {
  /** Directories being deleted, and the deletes. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly log: Logger) {}

  add(dir: string): void {
    const removal = fs
      .rm(dir, { recursive: true, force: true })
      // Left for the next Cleanup, which sweeps what no snapshot owns.
      .catch((err: unknown) => this.log.warn({ err, dir }, 'failed to remove snapshot directory'))
      .finally(() => this.pending.delete(dir));
    this.pending.set(dir, removal);
  }

  has(dir: string): boolean {
    return this.pending.has(dir);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending.values());
  }
}
