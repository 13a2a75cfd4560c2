// Reads a tar stream one entry at a time with tar-stream: the parser waits
// for each entry to be handled before it reads on, so a slow filesystem slows
// the whole chain down instead of filling memory.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { StrataError } from '../errdefs';
import { markLayerFault } from './layer-format-error';

/** `name` and `linkname` are byte strings (see byte-paths.ts): a name need not be UTF-8. */
export type TarHeader = tar.Header & { pax?: Record<string, string> };

export type EntryVisitor = (header: TarHeader, body: Readable) => Promise<void>;

/**
 * Failures of the system or of the caller are not the layer's fault; what
 * else the parser (or a decoder upstream) reports is.
 */
function blame(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof StrataError || err.name === 'AbortError') return err;
  if (typeof (err as NodeJS.ErrnoException).syscall === 'string') return err;
  return markLayerFault(err);
}

/**
 * Calls visit for each entry in order, and parses on only once it returns;
 * what it leaves of a body is skipped. A tar that is broken (or whose
 * decompression failed upstream) fails with an error that isLayerFault
 * recognises; visit's own errors stop the parse and are thrown as they are.
 */
export async function forEachTarEntry(source: AsyncIterable<Buffer>, visit: EntryVisitor): Promise<void> {
  // Names as bytes (one latin1 character each); tar-stream's types lack the option.
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
  let parseError: NodeJS.ErrnoException | undefined;
  const parsing = pipeline(source, extract).catch((err: NodeJS.ErrnoException) => {
    parseError = err;
  });
  let visitError: { error: unknown } | undefined;
  try {
    for await (const entry of extract) {
      try {
        await visit(entry.header as TarHeader, entry as unknown as Readable);
      } catch (error) {
        visitError = { error };
        throw error;
      }
      entry.resume();
    }
  } catch (err) {
    await parsing;
    // Stopping early on visit's error closes the parser prematurely; that is
    // not the layer's fault. Any other parse failure is, and explains visit's.
    if (parseError && !(visitError && parseError.code === 'ERR_STREAM_PREMATURE_CLOSE')) throw blame(parseError);
    throw visitError ? visitError.error : blame(err);
  }
  await parsing;
  if (parseError) throw blame(parseError);
}
