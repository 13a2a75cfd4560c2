// One writer per ingest ref at a time, as containerd's local store enforces.
// A writer whose client has already closed its side is only finishing up,
// so a new writer waits for it instead of being refused. Because the end of
// one stream and the start of the next reach us as separate events, a busy
// writer is given a moment to turn out to be closing before Unavailable.
import { setTimeout as sleep } from 'node:timers/promises';
import { unavailable } from '../errdefs';

const CLOSING_GRACE_MS = 100;

interface Holder {
  closing: boolean;
  /** Settles when the holder starts closing or releases. */
  changed: Promise<void>;
  released: Promise<void>;
  signalChange: () => void;
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
      if (!holder.closing) {
        await Promise.race([holder.changed, sleep(CLOSING_GRACE_MS)]);
        if (this.holders.get(ref) === holder && !holder.closing) {
          throw unavailable(`ref ${ref} is locked by another writer`);
        }
      } else {
        await holder.released;
      }
      holder = this.holders.get(ref);
    }
    const mine = newHolder();
    this.holders.set(ref, mine);
    return {
      closing: () => {
        mine.closing = true;
        mine.signalChange();
      },
      release: () => {
        if (this.holders.get(ref) === mine) this.holders.delete(ref);
        mine.signalChange();
        mine.release();
      },
    };
  }

  isLocked(ref: string): boolean {
    return this.holders.has(ref);
  }
}

function newHolder(): Holder {
  let signalChange = () => {};
  let release = () => {};
  const changed = new Promise<void>((resolve) => (signalChange = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { closing: false, changed, released, signalChange, release };
}
