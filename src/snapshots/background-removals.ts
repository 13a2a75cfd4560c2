// Deletes directories after the operation that dropped them has returned.
// Whoever needs them gone (Cleanup, shutdown) waits with drain().
import fs from 'node:fs/promises';
import type { Logger } from 'pino';

export class BackgroundRemovals {
  private readonly pending = new Set<Promise<void>>();
  private readonly dirs = new Set<string>();

  constructor(private readonly log: Logger) {}

  add(dir: string): void {
    const removal = fs
      .rm(dir, { recursive: true, force: true })
      // Left for the next Cleanup, which sweeps what no snapshot owns.
      .catch((err: unknown) => this.log.warn({ err, dir }, 'failed to remove snapshot directory'))
      .finally(() => {
        this.pending.delete(removal);
        this.dirs.delete(dir);
      });
    this.pending.add(removal);
    this.dirs.add(dir);
  }

  has(dir: string): boolean {
    return this.dirs.has(dir);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }
}
