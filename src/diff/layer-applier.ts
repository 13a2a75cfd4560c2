// Apply: streams a layer from the content store through its decompressor and
// a digester into the snapshot's mounts, as one pipeline. Memory stays bounded
// whatever the layer's size: every stage waits for the one after it, down to
// the filesystem. Cancelling the call, a broken layer or a failing disk ends
// every stage and closes the blob.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import { cancelled, inContext, invalidArgument, notFound } from '../errdefs';
import { syscalls } from '../native/syscalls';
import type { Slots } from '../slots';
import type { ApplyTarget, Mount } from '../snapshots/types';
import { readAhead, runPipeline, tap } from '../stream-stages';
import { compressionOf, decompression, detectCompression, SNIFF_BYTES, type Compression } from './compression';
import { DeferredMarkers } from './deferred-markers';
import { limitExpansion, type ExpansionLimits } from './expansion-limit';
import { isLayerFault } from './layer-format-error';
import { withApplyTarget } from './mount-target';
import type { MountCheck } from './own-mounts';
import { applyTar } from './tar-applier';
import { UNCOMPRESSED_LAYER, type Descriptor } from './types';

/** Decompression runs this far ahead of the writes to the snapshot. */
const READ_AHEAD = 4 << 20;

/**
 * What the snapshotter wants told of an Apply into these mounts (undefined
 * when they are not one of its active snapshots): where to record the
 * overlay markers a later rebase needs (see deferred-markers.ts), and the
 * diff ID the Apply ends with.
 */
export type ApplyTargetOf = (mounts: readonly Mount[]) => Promise<ApplyTarget | undefined>;

export class LayerApplier {
  constructor(
    private readonly content: ContentStore,
    private readonly scratch: string,
    /** Set by the server's config; a request may also ask for it. */
    private readonly alwaysSyncFs: boolean,
    private readonly checkMounts: MountCheck,
    /** Applies that run at once; the rest wait, before anything is opened or mounted. */
    private readonly turns: Slots,
    private readonly limits: ExpansionLimits,
    private readonly applyTargetOf: ApplyTargetOf,
    private readonly log: Logger,
  ) {}

  apply(layer: Descriptor, mounts: Mount[], syncFs: boolean, signal?: AbortSignal): Promise<Descriptor> {
    return inContext(`apply ${layer.digest}`, async () => {
      this.checkMounts(mounts);
      const tracked = await this.applyTargetOf(mounts);
      let diffId: string | undefined;
      try {
        // Taken before a turn: an early unpack being waited for may need one.
        const early = await tracked?.takeEarly(layer.digest);
        if (tracked && early) {
          diffId = early.diffId;
          if (syncFs || this.alwaysSyncFs) syscalls.syncfs(tracked.tree);
          return { mediaType: UNCOMPRESSED_LAYER, digest: early.diffId, size: early.size, annotations: {} };
        }
        const release = await this.turns.take(signal);
        try {
          const applied = await this.applyInTurn(layer, mounts, tracked?.markersFile, syncFs, signal);
          diffId = applied.digest;
          return applied;
        } finally {
          release();
        }
      } finally {
        await tracked?.finish(diffId);
      }
    });
  }

  private async applyInTurn(layer: Descriptor, mounts: Mount[], markersFile: string | undefined, syncFs: boolean, signal?: AbortSignal): Promise<Descriptor> {
    const compression = compressionOf(layer.mediaType) ?? detectCompression(await this.head(layer.digest), layer.mediaType);
    // Opened first, so a missing blob is NotFound before anything is mounted.
    const { stream } = await this.content.read(layer.digest, 0, 0);
    const deferred = markersFile === undefined ? undefined : new DeferredMarkers();
    try {
      return await withApplyTarget(mounts, this.scratch, async (mounted) => {
        const target = { ...mounted, deferred };
        // The uncompressed tar's digest is the layer's diff ID.
        const diffId = createHash('sha256');
        let size = 0;
        const digesting = tap((chunk) => {
          diffId.update(chunk);
          size += chunk.length;
        });
        const limit = limitExpansion(this.limits);
        const stages = [limit.compressed, ...decompression(compression), limit.uncompressed, digesting, readAhead(READ_AHEAD)];
        await runPipeline(stream, stages, (tar) => applyTar(tar, target, this.log), signal).catch((err: unknown) => {
          // A Remove of the snapshot while the layer went in: say so, not ENOENT.
          if (!signal?.aborted && !isLayerFault(err) && !existsSync(target.root)) {
            throw notFound(`the snapshot was removed while the layer was applied (${(err as Error).message})`);
          }
          throw err;
        });
        if (markersFile !== undefined) deferred?.append(markersFile);
        // One syncfs per layer instead of an fsync per file, as containerd 2.x.
        if (syncFs || this.alwaysSyncFs) syscalls.syncfs(target.root);
        return { mediaType: UNCOMPRESSED_LAYER, digest: `sha256:${diffId.digest('hex')}`, size, annotations: {} };
      });
    } catch (err) {
      if (signal?.aborted) throw cancelled('the client cancelled the call');
      if (!isLayerFault(err)) throw err;
      throw invalidArgument(`layer is not a valid ${formatName(compression)}: ${(err as Error).message}`);
    } finally {
      // Already closed if the pipeline ran; not if mounting failed first.
      stream.destroy();
    }
  }

  /** The first bytes of a blob, for sniffing its compression. */
  private async head(digest: string): Promise<Buffer> {
    return buffer((await this.content.read(digest, 0, SNIFF_BYTES)).stream);
  }
}

function formatName(compression: Compression): string {
  return compression === 'none' ? 'tar' : `${compression}-compressed tar`;
}

export function scratchDir(root: string): string {
  return path.join(root, 'tmp');
}
