// Layer sharing and early unpacks as `strata serve` runs them.
import type { Logger } from 'pino';
import { nowNs } from '../clock';
import type { Config } from '../config/config';
import type { ContentStore } from '../content/store';
import type { LayerApplier } from '../diff/layer-applier';
import type { Metrics } from '../metrics/metrics';
import type { StoreSnapshotter } from '../snapshots/snapshotter';
import { EarlyUnpacks } from './early-unpacks';
import { LayerSharing } from './layer-sharing';

/** An early unpack nothing claimed for this long is removed: containerd's pull that wanted it is over. */
const UNCLAIMED_NS = 10n * 60n * 1_000_000_000n;
const SWEEP_MS = 60_000;

export async function startLayerSharing(
  config: Pick<Config, 'shareLayers' | 'maxConcurrentApplies'>,
  snapshotter: StoreSnapshotter,
  applier: LayerApplier,
  content: ContentStore,
  metrics: Metrics | undefined,
  log: Logger,
): Promise<{ sharing: LayerSharing; early: EarlyUnpacks; close(): Promise<void> }> {
  // Early unpacks that a stop or a crash cut short, and those never handed to containerd, are worth nothing now.
  const removed = await snapshotter.removeSpeculative();
  if (removed > 0) log.info({ removed }, 'removed early unpacks that nothing claimed before the restart');
  // As many as Applies may run: containerd's first Apply of an image takes its
  // turn before any early unpack of that image starts, and under containerd
  // 1.6 its Applies take none.
  const early = new EarlyUnpacks(snapshotter, applier, content, config.shareLayers, config.maxConcurrentApplies, log);
  // containerd 1.6 applies layers itself: its unpacker is only seen at its Prepares.
  const sharing = new LayerSharing(snapshotter, content, early, config.shareLayers, config.shareLayers === 'trusted', log);
  snapshotter.setLayerSharing(sharing);
  metrics?.watchLayerSharing(() => ({ offered: sharing.figures.layersShared, bytesShared: sharing.figures.bytesShared, secondsSaved: sharing.figures.secondsSaved, adopted: sharing.figures.layersAdopted, earlyHandedOver: early.figures.handedOver, earlyDropped: early.figures.dropped }));
  const sweep = setInterval(() => {
    snapshotter.removeSpeculative(nowNs() - UNCLAIMED_NS).catch((err: unknown) => log.warn({ err }, 'failed to remove early unpacks that nothing claimed'));
  }, SWEEP_MS).unref();
  return {
    sharing,
    early,
    async close() {
      clearInterval(sweep);
      await early.close();
    },
  };
}
