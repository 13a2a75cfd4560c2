// `strata serve`: opens the store under --root and serves it on --address
// until SIGTERM or SIGINT.
import fs from 'fs-extra';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { ContentStore } from '../content/store';
import { openMetadataDatabase } from '../metadata/database';
import { Transactor } from '../metadata/transactor';
import { mountsUnder, unmount } from '../mount';
import { syscalls } from '../native/syscalls';
import { prepareRoot } from '../root-dir';
import { Slots } from '../slots';
import { LayerApplier, scratchDir } from '../diff/layer-applier';
import { LayerDiffer } from '../diff/layer-differ';
import { anyMounts, ownMountsOnly } from '../diff/own-mounts';
import { Collector } from '../gc/collector';
import { adminHandlers } from '../server/admin-service';
import { contentHandlers } from '../server/content-service';
import { diffHandlers } from '../server/diff-service';
import { listen } from '../server/grpc-server';
import { loadServices } from '../server/proto';
import { snapshotsHandlers } from '../server/snapshots-service';
import type { Backend } from '../snapshots/backend';
import { NativeBackend } from '../snapshots/native-backend';
import { OverlayfsBackend } from '../snapshots/overlayfs-backend';
import { probeOverlay } from '../snapshots/overlay-support';
import { SnapshotLayout } from '../snapshots/layout';
import { StoreSnapshotter } from '../snapshots/snapshotter';

async function openBackend(config: Config): Promise<Backend> {
  if (config.backend === 'native') return new NativeBackend();
  return new OverlayfsBackend(await probeOverlay(config.root));
}

/** Resolves on the first SIGTERM or SIGINT; listening starts at once so none is missed. */
function stopSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Two servers sharing one root would sweep each other's work in progress. */
function lockRoot(root: string): void {
  try {
    syscalls.lockExclusive(path.join(root, 'lock'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    throw new Error(`${root} is in use by another strata`);
  }
}

/** Unmounts what a killed server left mounted on its scratch directories, then removes them. */
async function releaseScratchMounts(scratch: string, log: Logger): Promise<void> {
  for (const target of await mountsUnder(scratch)) {
    log.warn({ target }, 'unmounting a leftover temporary mount');
    await unmount(target, { lazy: true });
  }
  for (const entry of await fs.readdir(scratch).catch(() => [] as string[])) {
    // rmdir, never rm -r: only an empty, unmounted directory may go.
    await fs.rmdir(path.join(scratch, entry)).catch(() => undefined);
  }
}

/** Runs the collector every `intervalMs`, skipping a tick while a run is still going; stop() waits for that run. */
function collectEvery(collector: Collector, intervalMs: number, log: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const collectOnce = async () => {
    try {
      const report = await collector.collect({ dryRun: false });
      log.info({ removed: { snapshots: report.snapshots.length, blobs: report.blobs.length, ingests: report.ingests.length }, bytes: report.bytes }, 'gc: scheduled collection');
    } catch (err) {
      log.error({ err }, 'gc: scheduled collection failed');
    }
  };
  const timer = setInterval(() => {
    running ??= collectOnce().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function serve(config: Config, log: Logger): Promise<void> {
  const stopped = stopSignal(log);
  const root = path.resolve(config.root);
  const address = path.resolve(config.address);
  await prepareRoot(root);
  lockRoot(root);
  await releaseScratchMounts(scratchDir(root), log);
  const backend = await openBackend({ ...config, root });
  const db = openMetadataDatabase(path.join(root, 'metadata.db'));
  const writes = new Transactor(db);
  const snapshotter = new StoreSnapshotter(root, db, writes, backend, log);
  // What a crash left half-built goes now, not only when containerd calls Cleanup.
  await snapshotter.cleanup();
  const content = new ContentStore(root, db, writes, log);
  await content.open();
  const checkMounts = config.foreignMounts ? anyMounts : ownMountsOnly(new SnapshotLayout(root).dir);
  const limits = { maxBytes: config.maxUncompressedBytes, maxRatio: config.maxCompressionRatio };
  const applier = new LayerApplier(content, scratchDir(root), config.syncFs, checkMounts, new Slots(config.maxConcurrentApplies), limits, log);
  const differ = new LayerDiffer(content, scratchDir(root), checkMounts);
  const collector =
    config.gcMode === 'labels'
      ? new Collector(db, writes, snapshotter, content, { snapshotterName: config.snapshotterName, ingestMaxAgeMs: config.gcIngestMaxAgeMs }, log)
      : undefined;
  const services = loadServices();
  const server = await listen(address, [
    { definition: services.snapshots, implementation: snapshotsHandlers(snapshotter, log) },
    { definition: services.content, implementation: contentHandlers(content, log) },
    { definition: services.diff, implementation: diffHandlers(applier, differ, log) },
    { definition: services.admin, implementation: adminHandlers(collector, log) },
  ], {
    mode: config.socketMode,
    gid: config.socketGid,
    maxMessageBytes: config.maxMessageBytes,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
  });
  log.info({ root, address, backend: backend.name, gcMode: config.gcMode }, 'strata serving');
  const schedule = collector && config.gcIntervalMs > 0 ? collectEvery(collector, config.gcIntervalMs, log) : undefined;

  await stopped;
  await schedule?.stop();
  await server.stop();
  await content.close();
  await snapshotter.close();
  db.close();
  log.info('stopped');
}
