// Streaming zstd decompression with bounded memory. zstd-napi's own
// DecompressStream pushes all of a chunk's output at once, and one chunk of a
// highly compressible layer can expand to hundreds of MiB; this one stops
// decompressing whenever its reader is full and resumes when it reads again.
import { Transform, type TransformCallback } from 'node:stream';
import { DCtx, dStreamOutSize } from 'zstd-napi/binding';

const OUTPUT_SIZE = dStreamOutSize();

export class ZstdDecompress extends Transform {
  private readonly dctx = new DCtx();
  private pending: { input: Buffer; done: TransformCallback } | undefined;
  private inFrame = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = { input: chunk, done };
    this.decompressPending();
  }

  override _read(size: number): void {
    if (this.pending) this.decompressPending();
    else super._read(size);
  }

  override _flush(done: TransformCallback): void {
    done(this.inFrame ? new Error('zstd stream ends in the middle of a frame') : null);
  }

  private decompressPending(): void {
    const pending = this.pending as { input: Buffer; done: TransformCallback };
    try {
      for (;;) {
        const output = Buffer.allocUnsafe(OUTPUT_SIZE);
        const [remaining, produced, consumed] = this.dctx.decompressStream(output, pending.input);
        pending.input = pending.input.subarray(consumed);
        this.inFrame = remaining !== 0;
        // A full output buffer may mean more output is waiting inside zstd.
        const flushed = produced < output.length;
        const wantsMore = produced > 0 ? this.push(output.subarray(0, produced)) : true;
        if (pending.input.length === 0 && flushed) {
          this.pending = undefined;
          pending.done();
          return;
        }
        if (!wantsMore) return;
      }
    } catch (err) {
      this.pending = undefined;
      pending.done(err as Error);
    }
  }
}
