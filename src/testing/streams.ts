// Test helpers for stream stages: inputs fed at a chosen pace, readers that
// take their time, a deadline that turns a stall into a failure, and a probe
// of how many bytes the stages hold while the reader is slow.
import { Duplex, Writable } from 'node:stream';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { runPipeline, type Stage } from '../stream-stages';

/** Far above the milliseconds a case takes: reaching it means nothing was left to wake the stream. */
export const STALL_DEADLINE_MS = 5_000;

/** fast-check settings for stream properties: a failing case is shrunk for minutes at most, not hours. */
export const PROPERTY_OPTIONS = { numRuns: 100, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true };

/** A pause: undefined or 0 is none, -1 yields to the event loop once, more is milliseconds. */
export type Delay = number;

export async function pause(delay: Delay | undefined): Promise<void> {
  if (delay === undefined || delay === 0) return;
  if (delay < 0) await immediate();
  else await sleep(delay);
}

/** Millisecond pauses for each of thousands of tiny chunks would make one case take seconds: yield instead. */
export function paceFor(delays: readonly Delay[], chunks: number): Delay[] {
  return chunks > 256 ? delays.map((d) => Math.min(d, -1)) : [...delays];
}

/** Deterministic bytes from a seed (xorshift32), fast enough for megabytes. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like bytes: words from a small vocabulary, so they compress several times over. */
export function compressibleBytes(seed: number, length: number): Buffer {
  const words = ['layer', 'snapshot', 'usr/lib/', 'node_modules', '\n', ' ', 'index.js', '0000', 'ELF\x7f', 'x86_64'];
  const pick = seededBytes(seed, Math.ceil(length / 3) + 1);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const word = words[pick[i % pick.length] % words.length];
    parts.push(word);
    size += word.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, length);
}

/** Yields `data` in chunks whose sizes cycle through `sizes`, pausing per `delays` before each. */
export async function* paced(data: Buffer, sizes: readonly number[], delays: readonly Delay[] = []): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < data.length; i++) {
    await pause(delays[i % Math.max(delays.length, 1)]);
    const size = Math.max(1, sizes[i % sizes.length]);
    // A copy, as a file read would give: a stage must not depend on chunks sharing memory.
    yield Buffer.from(data.subarray(at, at + size));
    at += size;
  }
}

/** Rejects if `work` has not settled within `ms`: a stalled stream has nothing left to wake it. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: ${what()} after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SlowRead {
  /** What was read, unless the caller chose not to keep it. */
  output: Buffer;
  received: number;
  /** Most bytes seen waiting inside the stages' stream buffers while the reader paused. */
  peakBuffered: number;
  /** The largest single chunk the reader was handed. */
  largestChunk: number;
}

/** Bytes queued in the stream stages: what a generator stage holds is one chunk, seen by the reader. */
export function bufferedIn(stages: readonly Stage[]): number {
  let total = 0;
  for (const stage of stages) if (stage instanceof Duplex) total += stage.readableLength + stage.writableLength;
  return total;
}

export interface SlowReader {
  /** Pauses after each chunk, cycled. */
  delays: readonly Delay[];
  deadlineMs: number;
  /**
   * How the reader takes chunks: iterating the last stage, or as a Writable
   * that calls back late (what pipe() and the tar parser see).
   */
  style?: 'iterator' | 'writable';
  /** False drops the output, for inputs too large to hold. */
  keep?: boolean;
}

/** Runs source → stages → a slow reader, within a deadline. */
export async function readSlowly(
  source: AsyncIterable<Buffer>,
  stages: readonly Stage[],
  { delays, deadlineMs, style = 'iterator', keep = true }: SlowReader,
): Promise<SlowRead> {
  const chunks: Buffer[] = [];
  let received = 0;
  let peakBuffered = 0;
  let largestChunk = 0;
  let i = 0;
  const take = (chunk: Buffer): Promise<void> => {
    peakBuffered = Math.max(peakBuffered, bufferedIn(stages));
    largestChunk = Math.max(largestChunk, chunk.length);
    received += chunk.length;
    if (keep) chunks.push(chunk);
    return pause(delays[i++ % Math.max(delays.length, 1)]);
  };
  const reader =
    style === 'writable'
      ? new Writable({
          write(chunk: Buffer, _encoding, done) {
            take(chunk).then(() => done(), done);
          },
        })
      : async (input: AsyncIterable<Buffer>) => {
          for await (const chunk of input) await take(chunk);
        };
  await withDeadline(runPipeline(source, stages, reader), deadlineMs, () => `${received} bytes read`);
  return { output: Buffer.concat(chunks), received, peakBuffered, largestChunk };
}
