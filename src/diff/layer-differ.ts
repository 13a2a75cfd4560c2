// Compare (the Diff RPC): the changes from lower to upper, as an OCI layer
// written into the content store under the caller's ref, with the
// containerd.io/uncompressed label naming its diff ID. As containerd's
// walking differ, with gzip as the default media type.
import { createHash, randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { PassThrough, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import type { ContentStore } from '../content/store';
import { inContext, isKind, unimplemented } from '../errdefs';
import type { Labels } from '../metadata/label-table';
import type { Mount } from '../snapshots/types';
import { ChangeWriter } from './change-writer';
import { withMounted } from './mount-target';
import { treeChanges } from './tree-changes';
import { UNCOMPRESSED_LAYER, type Descriptor } from './types';

export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';

function compressorFor(mediaType: string): Duplex {
  switch (mediaType) {
    case UNCOMPRESSED_LAYER:
      return new PassThrough();
    case `${UNCOMPRESSED_LAYER}+gzip`:
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
      return createGzip();
    case `${UNCOMPRESSED_LAYER}+zstd`:
      return new CompressStream();
    default:
      throw unimplemented(`unsupported diff media type ${mediaType}`);
  }
}

export class LayerDiffer {
  constructor(
    private readonly content: ContentStore,
    private readonly scratch: string,
  ) {}

  compare(lower: Mount[], upper: Mount[], requestedType: string, requestedRef: string, labels: Labels): Promise<Descriptor> {
    const mediaType = requestedType || `${UNCOMPRESSED_LAYER}+gzip`;
    const ref = requestedRef || `strata-diff-${randomBytes(12).toString('hex')}`;
    return inContext(`diff into ${ref}`, async () => {
      const compressor = compressorFor(mediaType);
      return withMounted(lower, this.scratch, true, (lowerRoot) =>
        withMounted(upper, this.scratch, true, (upperRoot) =>
          this.writeLayer(lowerRoot, upperRoot, compressor, mediaType, ref, labels),
        ),
      );
    });
  }

  private async writeLayer(
    lowerRoot: string,
    upperRoot: string,
    compressor: Duplex,
    mediaType: string,
    ref: string,
    labels: Labels,
  ): Promise<Descriptor> {
    const writer = await this.content.openWriter(ref, 0, '');
    let committed = false;
    try {
      if (writer.status().offset > 0) await writer.truncate();
      const pack = tar.pack();
      const diffId = createHash('sha256');
      const hasher = new PassThrough({
        transform(chunk: Buffer, _encoding, done) {
          diffId.update(chunk);
          done(null, chunk);
        },
      });
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          writer.write(chunk).then(() => done(), done);
        },
      });
      // Any failure on either side (a file that changes size while it is
      // read, a full disk) ends both, and is reported once.
      const writing = pipeline(pack, hasher, compressor, sink);
      const producing = (async () => {
        const changes = new ChangeWriter(pack, upperRoot);
        for await (const change of treeChanges(lowerRoot, upperRoot)) await changes.write(change);
        pack.finalize();
      })();
      producing.catch((err: Error) => pack.destroy(err));
      await Promise.all([producing, writing]);
      const uncompressed = `sha256:${diffId.digest('hex')}`;
      const withLabel = { ...labels, [UNCOMPRESSED_LABEL]: uncompressed };
      let digest: string;
      try {
        digest = await writer.commit(0, '', withLabel);
      } catch (err) {
        if (!isKind(err, 'AlreadyExists')) throw err;
        digest = writer.digest();
        const existing = await this.content.info(digest);
        if (existing.labels[UNCOMPRESSED_LABEL] === undefined) {
          await this.content.update(digest, withLabel, [`labels.${UNCOMPRESSED_LABEL}`]);
        }
      }
      committed = true;
      const info = await this.content.info(digest);
      return { mediaType, digest, size: info.size, annotations: {} };
    } finally {
      await writer.close();
      if (!committed) await this.content.abort(ref).catch(() => undefined);
    }
  }
}
