// `strata serve`: opens the store under --root and serves it on --address
// until SIGTERM or SIGINT.
import fs from 'fs-extra';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { HttpListener } from '../http-listener';
import type { ServerLog } from '../log';
import type { Metrics } from '../metrics/metrics';
import { storeHealth } from '../metrics/store-health';
import { storeFigures } from '../metadata/store-figures';
import { rpcObserver } from '../server/rpc-observer';
import { serviceManager } from '../service-manager';
import { ContentStore } from '../content/store';
import { openMetadataDatabase } from '../metadata/database';
import { Transactor } from '../metadata/transactor';
import { mountsUnder, unmount } from '../mount';
import { prepareRoot } from '../root-dir';
import { Slots } from '../slots';
import { LayerApplier, scratchDir } from '../diff/layer-applier';
import { LayerDiffer } from '../diff/layer-differ';
import { anyMounts, ownMountsOnly } from '../diff/own-mounts';
import { Collector } from '../gc/collector';
import { adminHandlers, type Collect } from '../server/admin-service';
import { contentHandlers } from '../server/content-service';
import { diffHandlers } from '../server/diff-service';
import { listen } from '../server/grpc-server';
import { HealthService } from '../server/health-service';
import { handlersFinished } from '../server/handlers';
import { loadServices } from '../server/proto';
import { snapshotsHandlers } from '../server/snapshots-service';
import type { Backend } from '../snapshots/backend';
import { NativeBackend } from '../snapshots/native-backend';
import { OverlayfsBackend } from '../snapshots/overlayfs-backend';
import { probeOverlay } from '../snapshots/overlay-support';
import { SnapshotLayout } from '../snapshots/layout';
import { StoreSnapshotter } from '../snapshots/snapshotter';
import { startLayerSharing } from '../unpack/start';

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
function collectEvery(collect: Collect, intervalMs: number, log: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const collectOnce = async () => {
    try {
      const report = await collect({ dryRun: false });
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

/** The collector, counted in the metrics (when served) when it removes anything. */
function meteredCollect(collector: Collector, metrics: Metrics | undefined): Collect {
  return async (options) => {
    const report = await collector.collect(options);
    if (!options.dryRun && metrics) {
      metrics.gcRuns.inc();
      metrics.gcFreedBytes.inc(report.bytes.snapshots + report.bytes.blobs + report.bytes.ingests);
    }
    return report;
  };
}

/** The distribution mirror, with its peers; its spool is cleared of what a killed server left. */
async function startMirror(config: Config, root: string, content: ContentStore, log: Logger, metrics: Metrics | undefined) {
  const { serveMirror } = await import('../mirror/mirror-server');
  const { Peers } = await import('../mirror/peers');
  const spoolDir = path.join(scratchDir(root), 'mirror-spool');
  await fs.rm(spoolDir, { recursive: true, force: true });
  const peers =
    config.mirrorPeers.length > 0 || config.mirrorPeersDns
      ? new Peers({ urls: config.mirrorPeers, dns: config.mirrorPeersDns, timeoutMs: config.mirrorPeerTimeoutMs, badForMs: 60_000, self: `http://${config.mirrorAddress}` })
      : undefined;
  return serveMirror(content, { address: config.mirrorAddress, peers, cache: config.mirrorCache, registries: config.mirrorRegistries, spoolDir }, log, metrics);
}

export async function serve(config: Config, { log, reopen }: ServerLog): Promise<void> {
  const stopped = stopSignal(log);
  // SIGHUP would end the process; to a daemon it means "reopen your log".
  process.on('SIGHUP', () => {
    reopen();
    log.info('log reopened');
  });
  const manager = serviceManager();
  const root = path.resolve(config.root);
  const address = path.resolve(config.address);
  await prepareRoot(root);
  await releaseScratchMounts(scratchDir(root), log);
  const backend = await openBackend({ ...config, root });
  const dbFile = path.join(root, 'metadata.db');
  const db = openMetadataDatabase(dbFile);
  const writes = new Transactor(db);
  const snapshotter = new StoreSnapshotter(root, db, writes, backend, log);
  // What a crash left half-built goes now, not only when containerd calls Cleanup.
  await snapshotter.cleanup();
  const content = new ContentStore(root, db, writes, log);
  await content.open();
  const checkMounts = config.foreignMounts ? anyMounts : ownMountsOnly(new SnapshotLayout(root).dir);
  const limits = { maxBytes: config.maxUncompressedBytes, maxRatio: config.maxCompressionRatio };
  const applier = new LayerApplier(content, scratchDir(root), config.syncFs, checkMounts, new Slots(config.maxConcurrentApplies), limits, (mounts) => snapshotter.applyTarget(mounts), log);
  const differ = new LayerDiffer(content, scratchDir(root), checkMounts);
  // prom-client is loaded only when metrics are served: startup time counts.
  const metrics = config.metricsAddress ? new (await import('../metrics/metrics')).Metrics(() => storeFigures(db, dbFile)) : undefined;
  const sharing = await startLayerSharing(config, snapshotter, applier, content, metrics, log);
  const collect =
    config.gcMode === 'labels'
      ? meteredCollect(new Collector(db, writes, snapshotter, content, { snapshotterName: config.snapshotterName, ingestMaxAgeMs: config.gcIngestMaxAgeMs }, log), metrics)
      : undefined;
  const services = loadServices();
  const served = {
    'containerd.services.snapshots.v1.Snapshots': { definition: services.snapshots, implementation: snapshotsHandlers(snapshotter) },
    'containerd.services.content.v1.Content': { definition: services.content, implementation: contentHandlers(content, metrics) },
    'containerd.services.diff.v1.Diff': { definition: services.diff, implementation: diffHandlers(applier, differ, metrics) },
    'strata.admin.v1.Admin': { definition: services.admin, implementation: adminHandlers(collect) },
  };
  const health = new HealthService(Object.keys(served));
  const server = await listen(address, [...Object.values(served), ...health.bindings], {
    mode: config.socketMode,
    gid: config.socketGid,
    maxMessageBytes: config.maxMessageBytes,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    interceptors: [rpcObserver(log, metrics)],
  });
  let endpoint: HttpListener | undefined;
  let mirror: HttpListener | undefined;
  const stop = async (graceMs: number) => {
    await server.stop(graceMs);
    // Cancelled calls unwind (unmount, remove their temp dirs) before the store closes.
    await handlersFinished();
    await sharing.close();
    await mirror?.close();
    await endpoint?.close();
    await content.close();
    await snapshotter.close();
    db.close();
  };
  try {
    health.serving();
    endpoint = metrics ? await (await import('../metrics/http-endpoint')).serveHttpEndpoint(config.metricsAddress, metrics, storeHealth(db, root), log) : undefined;
    mirror = config.mirrorAddress ? await startMirror(config, root, content, log, metrics) : undefined;
  } catch (err) {
    // The socket is there already: a start that fails goes as a stop would, socket and all.
    await stop(0);
    throw err;
  }
  log.info({ root, address, backend: backend.name, gcMode: config.gcMode, metrics: endpoint?.address, mirror: mirror?.address }, 'strata serving');
  manager.ready();
  const schedule = collect && config.gcIntervalMs > 0 ? collectEvery(collect, config.gcIntervalMs, log) : undefined;

  await stopped;
  manager.stopping();
  health.stopping();
  await schedule?.stop();
  await stop(config.shutdownGraceMs);
  log.info('stopped');
}
