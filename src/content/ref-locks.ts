// One writer per ingest ref at a time, as containerd's local store enforces.
// A writer whose client has already closed its side is only finishing up,
// so a new writer waits for it instead of being refused.
import { unavailable } from '../errdefs';

interface Holder {
  closing: boolean;
  released: Promise<void>;
  release: () => void;
}

export interface RefLock {
  /** The client is done with this writer; new writers may queue behind it. */
  closing(): void;
  release(): void;
}

export class RefLocks {
  private readonly holders = new Map<string, Holder>();

  async acquire(ref: string): Promise<RefLock> {
    let holder = this.holders.get(ref);
    while (holder) {
      if (!holder.closing) throw unavailable(`ref ${ref} is locked by another writer`);
      await holder.released;
      holder = this.holders.get(ref);
    }
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const mine: Holder = { closing: false, released, release };
    this.holders.set(ref, mine);
    return {
      closing: () => {
        mine.closing = true;
      },
      release: () => {
        if (this.holders.get(ref) === mine) this.holders.delete(ref);
        mine.release();
      },
    };
  }

  isLocked(ref: string): boolean {
    return this.holders.has(ref);
  }
}
