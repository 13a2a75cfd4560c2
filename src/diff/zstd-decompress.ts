// Streaming zstd decompression with bounded memory, as a pipeline stage.
// zstd-napi's own DecompressStream pushes all of a chunk's output at once, and
// one chunk of a highly compressible layer can expand to hundreds of MiB. Here
// an async generator hands out one piece of output at a time: it runs again
// only when the next stage asks for more, so it cannot run ahead of a slow
// reader, and there is no wake-up to lose.
import { DCtx, dStreamOutSize } from 'zstd-napi/binding';
import { LayerFormatError } from './layer-format-error';

/** zstd's recommended output size: one full block, so every call makes progress. */
const PIECE_SIZE = dStreamOutSize();

export async function* zstdDecompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const dctx = new DCtx();
  let output = Buffer.allocUnsafe(PIECE_SIZE);
  let inFrame = false;
  for await (const chunk of source) {
    let input: Buffer = chunk;
    for (;;) {
      let remaining: number;
      let produced: number;
      let consumed: number;
      try {
        [remaining, produced, consumed] = dctx.decompressStream(output, input);
      } catch (err) {
        throw new LayerFormatError(`zstd: ${(err as Error).message}`);
      }
      input = input.subarray(consumed);
      // A call that does nothing says what the next frame would need, not
      // that one has begun: only progress changes whether a frame is open.
      if (consumed > 0 || produced > 0) inFrame = remaining !== 0;
      // A full piece is handed over as it is; a partial one is copied, so a
      // reader holding many small pieces never pins a full buffer for each.
      const full = produced === output.length;
      if (full) {
        yield output;
        output = Buffer.allocUnsafe(PIECE_SIZE);
      } else if (produced > 0) {
        yield Buffer.from(output.subarray(0, produced));
      }
      // A full piece may mean more output is waiting inside zstd, even with no input left.
      if (input.length === 0 && !full) break;
    }
  }
  if (inFrame) throw new LayerFormatError('zstd: stream ends in the middle of a frame');
}
