// Apply: streams a layer from the content store through its decompressor and
// a digester into the snapshot's mounts. Memory stays bounded whatever the
// layer's size; decompression (zlib and zstd run off the main thread) overlaps
// with the filesystem writes.
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import { inContext, invalidArgument } from '../errdefs';
import { syscalls } from '../native/syscalls';
import type { Mount } from '../snapshots/types';
import { compressionOf, decompressor, detectCompression } from './compression';
import { withApplyTarget } from './mount-target';
import { applyTar, LayerFormatError } from './tar-applier';
import { UNCOMPRESSED_LAYER, type Descriptor } from './types';

const SNIFF_BYTES = 512;

export class LayerApplier {
  constructor(
    private readonly content: ContentStore,
    private readonly scratch: string,
    /** Set by the server's config; a request may also ask for it. */
    private readonly alwaysSyncFs: boolean,
    private readonly log: Logger,
  ) {}

  apply(layer: Descriptor, mounts: Mount[], syncFs: boolean): Promise<Descriptor> {
    return inContext(`apply ${layer.digest}`, async () => {
      const { stream } = await this.content.read(layer.digest, 0, 0);
      try {
        return await this.applyStream(layer, stream, mounts, syncFs);
      } finally {
        // Whatever happened, the blob's file handle goes.
        stream.destroy();
      }
    });
  }

  private async applyStream(layer: Descriptor, stream: Readable, mounts: Mount[], syncFs: boolean): Promise<Descriptor> {
    const { head, rest } = await peek(stream, SNIFF_BYTES);
    const compression = compressionOf(layer.mediaType) ?? detectCompression(head, layer.mediaType);
    const hash = createHash('sha256');
    let size = 0;
    const counted = new PassThrough({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    // Any failure upstream destroys `counted` with that error, which the tar parser then reports.
    pipeline(rest, decompressor(compression), counted).catch(() => undefined);
    try {
      await withApplyTarget(mounts, this.scratch, async (target) => {
        await applyTar(counted, target, this.log);
        // One syncfs per layer instead of an fsync per file, as containerd 2.x.
        if (syncFs || this.alwaysSyncFs) syscalls.syncfs(target.root);
      });
    } catch (err) {
      if (!(err instanceof LayerFormatError)) throw err;
      const format = compression === 'none' ? 'tar' : `${compression}-compressed tar`;
      throw invalidArgument(`layer is not a valid ${format}: ${err.message}`);
    }
    return { mediaType: UNCOMPRESSED_LAYER, digest: `sha256:${hash.digest('hex')}`, size, annotations: {} };
  }
}

/** Reads the first bytes of a stream without losing them. */
async function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value as Buffer);
    length += (next.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  async function* replay() {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value as Buffer;
  }
  return { head, rest: Readable.from(replay(), { objectMode: false }) };
}

export function scratchDir(root: string): string {
  return path.join(root, 'tmp');
}
