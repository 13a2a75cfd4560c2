// Compare (the Diff RPC): the changes from lower to upper, as an OCI layer
// written into the content store under the caller's ref, with the
// containerd.io/uncompressed label naming its diff ID. As containerd's
// walking differ, with gzip as the default media type.
import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../content/store';
import { cancelled, inContext, isKind, unimplemented } from '../errdefs';
import type { Labels } from '../metadata/label-table';
import type { Mount } from '../snapshots/types';
import type { Stage } from '../stream-stages';
import { compression } from './compression';
import { writeLayer } from './layer-writer';
import { withMounted } from './mount-target';
import type { MountCheck } from './own-mounts';
import { treeChanges } from './tree-changes';
import { UNCOMPRESSED_LAYER, type Descriptor } from './types';

export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';

function compressionFor(mediaType: string): Stage[] {
  switch (mediaType) {
    case UNCOMPRESSED_LAYER:
      return compression('none');
    case `${UNCOMPRESSED_LAYER}+gzip`:
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
      return compression('gzip');
    case `${UNCOMPRESSED_LAYER}+zstd`:
      return compression('zstd');
    default:
      throw unimplemented(`unsupported diff media type ${mediaType}`);
  }
}

export interface CompareRequest {
  /** The layer's media type; gzip when empty. */
  mediaType: string;
  /** The ingest ref to write under; a random one when empty. */
  ref: string;
  labels: Labels;
  /** SOURCE_DATE_EPOCH (containerd 1.7+), in nanoseconds: no file time in the layer is later. */
  sourceDateEpoch?: bigint;
}

export class LayerDiffer {
  constructor(
    private readonly content: ContentStore,
    private readonly scratch: string,
    private readonly checkMounts: MountCheck,
  ) {}

  compare(lower: Mount[], upper: Mount[], request: CompareRequest, signal?: AbortSignal): Promise<Descriptor> {
    const mediaType = request.mediaType || `${UNCOMPRESSED_LAYER}+gzip`;
    const ref = request.ref || `strata-diff-${randomBytes(12).toString('hex')}`;
    return inContext(`diff into ${ref}`, async () => {
      this.checkMounts(lower);
      this.checkMounts(upper);
      const stages = compressionFor(mediaType);
      try {
        return await withMounted(lower, this.scratch, true, (lowerRoot) =>
          withMounted(upper, this.scratch, true, (upperRoot) =>
            this.store(lowerRoot, upperRoot, stages, { ...request, mediaType, ref }, signal),
          ),
        );
      } catch (err) {
        if (signal?.aborted) throw cancelled('the client cancelled the call');
        throw err;
      }
    });
  }

  private async store(
    lowerRoot: string,
    upperRoot: string,
    compression: Stage[],
    { mediaType, ref, labels, sourceDateEpoch }: CompareRequest,
    signal?: AbortSignal,
  ): Promise<Descriptor> {
    const writer = await this.content.openWriter(ref, 0, '');
    let committed = false;
    try {
      if (writer.status().offset > 0) await writer.truncate();
      const { diffId } = await writeLayer(
        treeChanges(lowerRoot, upperRoot),
        upperRoot,
        compression,
        (chunk) => writer.write(chunk),
        signal,
        sourceDateEpoch,
      );
      const withLabel = { ...labels, [UNCOMPRESSED_LABEL]: diffId };
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
