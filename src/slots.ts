// At most N of something at once, the others waiting in order. A waiter
// whose signal aborts leaves the queue, so a cancelled call never takes a
// slot it no longer wants.
import { cancelled } from './errdefs';

export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(count: number) {
    this.free = count;
  }

  /** Resolves with the slot's release once one is free. */
  async take(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(cancelled('the client cancelled the call while it waited for a turn'));
      };
      if (signal?.aborted) return leave();
      this.waiting.push(turn);
      signal?.addEventListener('abort', leave, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter.
      if (next) next();
      else this.free++;
    };
  }
}
