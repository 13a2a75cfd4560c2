// Reads a blob range in chunks through at most two buffers, reused for the
// whole range. A buffer per chunk made V8 collect garbage every few MiB for
// the external memory alone: a third of a gRPC Read's CPU went to the
// collector.
import { syscalls } from '../native/syscalls';
import type { ReadBudget } from './read-budget';
import type { BlobRange } from './store';

/** One chunk: `buffer[dataStart, dataStart + length)` holds the blob's bytes from `position`. */
export interface Chunk {
  buffer: Buffer;
  /** The bytes before it are free for the consumer to write into (a message header, say). */
  dataStart: number;
  length: number;
  position: number;
}

export interface ChunkOptions {
  chunkSize: number;
  /** Free bytes kept before each chunk's data. */
  headroom: number;
  /** Chunks over `smallChunkSize` take their buffers from it; without room, chunks are small. */
  budget?: { large: ReadBudget; smallChunkSize: number };
}

/**
 * Passes the range to `consume` a chunk at a time, in order, then releases it.
 * The next chunk is read while `consume` works on this one, into the other
 * buffer, so `consume` must be done with a chunk's buffer when it resolves.
 */
export async function readInChunks(
  range: BlobRange,
  { chunkSize: largest, headroom, budget }: ChunkOptions,
  consume: (chunk: Chunk) => Promise<void>,
): Promise<void> {
  const { file, start, end } = range;
  let chunkSize = largest;
  let taken = 0;
  if (budget && Math.min(largest, end - start) > budget.smallChunkSize) {
    const bytes = 2 * (headroom + Math.min(largest, end - start));
    if (budget.large.tryTake(bytes)) taken = bytes;
    else chunkSize = budget.smallChunkSize;
  }
  const buffers: Buffer[] = [];
  const readAt = async (position: number, which: number): Promise<Chunk> => {
    const length = Math.min(chunkSize, end - position);
    // Sized for this range, so a small read allocates only what it returns.
    buffers[which] ??= Buffer.allocUnsafe(headroom + length);
    const buffer = buffers[which];
    for (let filled = 0; filled < length; ) {
      // What the page cache holds is copied at once; the thread pool reads the rest.
      const cached = syscalls.preadCached(file.fd, buffer, headroom + filled, length - filled, position + filled);
      const bytesRead =
        cached >= 0 ? cached : (await file.read(buffer, headroom + filled, length - filled, position + filled)).bytesRead;
      if (bytesRead === 0) throw new Error(`content ${range.digest} is shorter than its recorded size ${end}`);
      filled += bytesRead;
    }
    return { buffer, dataStart: headroom, length, position };
  };
  let next: Promise<Chunk> | undefined;
  try {
    let which = 0;
    next = start < end ? readAt(start, which) : undefined;
    while (next) {
      const chunk = await next;
      const following = chunk.position + chunk.length;
      which ^= 1;
      next = following < end ? readAt(following, which) : undefined;
      await consume(chunk);
    }
  } finally {
    // A read still in flight finishes before its file is released.
    await next?.catch(() => undefined);
    budget?.large.release(taken);
    await range.release();
  }
}
