// The memory Read streams may hold in large chunks, across all of them. A
// stream holds its chunk until the client takes it, so a client that opens a
// thousand Reads and never reads would otherwise pin a thousand large
// buffers. Past the budget a Read still goes ahead, in small chunks, as
// containerd's does (32 KiB): slower, never stalled, and bounded per stream.

export class ReadBudget {
  private free: number;

  constructor(bytes: number) {
    this.free = bytes;
  }

  /** Takes `bytes` if they are free; the caller gives them back with release(). */
  tryTake(bytes: number): boolean {
    if (bytes > this.free) return false;
    this.free -= bytes;
    return true;
  }

  release(bytes: number): void {
    this.free += bytes;
  }
}
