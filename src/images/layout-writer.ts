// Writes an OCI image layout: blobs streamed in under their digest (hashed as
// they are written, renamed into place once complete), JSON documents,
// index.json and oci-layout; and packs a layout into an archive that
// `ctr images import` and skopeo's oci-archive: read.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { compression, type Compression } from '../diff/compression';
import { runPipeline, tap, type Stage } from '../stream-stages';
import { addEntry } from '../tar-pack';
import { MEDIA_TYPES, type Descriptor, type ImageIndex } from './types';

/** Archive members get this time, so that packing the same layout twice gives the same bytes. */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

export class LayoutWriter {
  private staged = 0;

  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<LayoutWriter> {
    await fs.promises.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    return new LayoutWriter(dir);
  }

  /** Streams a blob into the layout, through `stages` (a compressor, say); returns its descriptor. */
  async writeBlob(mediaType: string, source: Readable | AsyncIterable<Buffer>, stages: readonly Stage[] = []): Promise<Descriptor> {
    const staging = path.join(this.dir, `.staging-${process.pid}-${this.staged++}`);
    const hash = createHash('sha256');
    let size = 0;
    const hashing = tap((chunk) => {
      hash.update(chunk);
      size += chunk.length;
    });
    try {
      await runPipeline(source, [...stages, hashing], fs.createWriteStream(staging));
      const digest = `sha256:${hash.digest('hex')}`;
      await fs.promises.rename(staging, this.blobPath(digest));
      return { mediaType, digest, size };
    } finally {
      await fs.promises.rm(staging, { force: true });
    }
  }

  writeJson(mediaType: string, document: object): Promise<Descriptor> {
    return this.writeBlob(mediaType, Readable.from([Buffer.from(JSON.stringify(document))]));
  }

  blobPath(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /** Names the layout's images: writes index.json and oci-layout. */
  async finish(manifests: Descriptor[]): Promise<void> {
    const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
    await fs.promises.writeFile(path.join(this.dir, 'index.json'), JSON.stringify(index));
    await fs.promises.writeFile(path.join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }
}

/** Packs a layout directory into one tar, streaming each blob from disk. */
export async function packLayout(layoutDir: string, archive: string): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, fs.createWriteStream(archive));
  const producing = (async () => {
    for (const name of ['oci-layout', 'index.json']) {
      const size = (await fs.promises.stat(path.join(layoutDir, name))).size;
      await addEntry(pack, { name, size, mode: 0o644, mtime: FIXED_MTIME }, fs.createReadStream(path.join(layoutDir, name)));
    }
    for (const dir of ['blobs', 'blobs/sha256']) await addEntry(pack, { name: dir, type: 'directory', mode: 0o755, mtime: FIXED_MTIME });
    for (const blob of (await fs.promises.readdir(path.join(layoutDir, 'blobs', 'sha256'))).filter((n) => !n.startsWith('.')).sort()) {
      const file = path.join(layoutDir, 'blobs', 'sha256', blob);
      const { size } = await fs.promises.stat(file);
      await addEntry(pack, { name: `blobs/sha256/${blob}`, size, mode: 0o644, mtime: FIXED_MTIME }, fs.createReadStream(file));
    }
    pack.finalize();
  })();
  producing.catch((err: Error) => pack.destroy(err));
  await Promise.all([producing, writing]);
}

const LAYER_MEDIA_TYPES: Record<Compression, string> = {
  none: MEDIA_TYPES.ociLayer,
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd,
};

export interface WrittenLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar, as the image config lists it. */
  diffId: string;
  uncompressedSize: number;
}

/** Writes one layer blob: `fill` adds the tar's entries, which are compressed on their way to the layout. */
export async function writeTarLayer(writer: LayoutWriter, kind: Compression, fill: (pack: tar.Pack) => Promise<void>): Promise<WrittenLayer> {
  const pack = tar.pack();
  const diffId = createHash('sha256');
  let uncompressedSize = 0;
  const counting = tap((chunk) => {
    diffId.update(chunk);
    uncompressedSize += chunk.length;
  });
  const compressed = new PassThrough();
  const packing = runPipeline(pack as unknown as Readable, [counting, ...compression(kind)], compressed);
  const filling = fill(pack).then(() => pack.finalize());
  filling.catch((err: Error) => pack.destroy(err));
  const [descriptor] = await Promise.all([writer.writeBlob(LAYER_MEDIA_TYPES[kind], compressed), packing, filling]);
  return { descriptor, diffId: `sha256:${diffId.digest('hex')}`, uncompressedSize };
}
