// Stages for stream/promises' pipeline. A stage is either a Duplex stream or
// an async generator over the previous stage's output; a generator only runs
// when the next stage asks for more, so it can neither run ahead of a slow
// reader nor miss the moment that reader is ready again.
import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type ByteTransform = (source: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
export type Stage = ByteTransform | Duplex;

/** Passes chunks through unchanged, showing each to `observe` first (to hash or count them). */
export function tap(observe: (chunk: Buffer) => void): ByteTransform {
  return async function* (source) {
    for await (const chunk of source) {
      observe(chunk);
      yield chunk;
    }
  };
}

/**
 * Holds up to `bytes` of the previous stage's output, so that stage keeps
 * working while the next one waits (on the disk, say) instead of taking
 * turns with it. Memory stays bounded by `bytes`.
 */
export function readAhead(bytes: number): Duplex {
  // A transform holds up to both of its marks: the limit is all on the writing side.
  return new PassThrough({ writableHighWaterMark: bytes, readableHighWaterMark: 0 });
}

/** What a stage reports when it is torn down because another one failed. */
function isKnockOn(err: unknown): boolean {
  const { name, code } = (err ?? {}) as { name?: string; code?: string };
  return name === 'AbortError' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * source → stages → destination, as one pipeline: a failure anywhere, or the
 * signal, ends every stage and closes the source. Resolves with what the
 * destination returns. On failure it throws the first error that a part
 * reported of its own, not whichever knock-on abort reached the pipeline
 * first: the root cause (a corrupt gzip, a full disk) is what the caller
 * must see.
 */
export function runPipeline<T>(
  source: Readable | AsyncIterable<Buffer>,
  stages: readonly Stage[],
  destination: Writable | ((input: AsyncIterable<Buffer>) => Promise<T>),
  signal?: AbortSignal,
): Promise<T> {
  const failures: unknown[] = [];
  const record = (err: unknown) => {
    if (!isKnockOn(err)) failures.push(err);
  };
  // Only a stream can be ended from outside: a generator source is wrapped
  // in one, so that a failure or the signal stops it and everything after it.
  const head = typeof (source as { pipe?: unknown }).pipe === 'function' ? source : Readable.from(source, { objectMode: false });
  // A generator stage's own failure travels down the chain to the
  // destination; a stream stage's is only an event, so it is heard here.
  for (const stream of [head, ...stages, destination]) {
    if (stream instanceof Readable || stream instanceof Writable) stream.on('error', record);
  }
  let destinationSettled: Promise<unknown> = Promise.resolve();
  const finish =
    destination instanceof Writable
      ? destination
      : (input: AsyncIterable<Buffer>) => {
          const result = destination(input).catch((err: unknown) => {
            record(err);
            throw err;
          });
          destinationSettled = result.catch(() => undefined);
          return result;
        };
  // pipeline's typings stop at a fixed number of stages; at run time it takes any.
  const run = pipeline as unknown as (...args: unknown[]) => Promise<T>;
  return run(head, ...stages, finish, { signal }).catch(async (err: unknown) => {
    // pipeline gives up at the first error, while the destination may still
    // be failing for the real reason (after letting its writes settle).
    await destinationSettled;
    throw failures.length > 0 ? failures[0] : err;
  });
}
