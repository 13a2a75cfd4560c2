// Listening as `strata serve` does with the default config, for tests that start a bare server.
import { DEFAULTS } from '../config/config';
import { Metrics } from '../metrics/metrics';
import type { ListenOptions } from '../server/grpc-server';

export const TEST_LISTEN: ListenOptions = {
  mode: DEFAULTS.socketMode,
  gid: DEFAULTS.socketGid,
  maxMessageBytes: DEFAULTS.maxMessageBytes,
  maxStreamsPerConnection: DEFAULTS.maxStreamsPerConnection,
};

export const TEST_GRACE_MS = DEFAULTS.shutdownGraceMs;

/** Metrics over an empty store, for services tested without one. */
export function testMetrics(): Metrics {
  return new Metrics(() => ({ snapshots: { active: 0, committed: 0, view: 0 }, blobs: 0, ingests: 0, diskBytes: { snapshots: 0, content: 0, metadata: 0 } }));
}
