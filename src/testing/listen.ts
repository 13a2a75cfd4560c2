// Listening as `strata serve` does with the default config, for tests that start a bare server.
import { DEFAULTS } from '../config';
import type { ListenOptions } from '../server/grpc-server';

export const TEST_LISTEN: ListenOptions = {
  mode: DEFAULTS.socketMode,
  gid: DEFAULTS.socketGid,
  maxMessageBytes: DEFAULTS.maxMessageBytes,
  maxStreamsPerConnection: DEFAULTS.maxStreamsPerConnection,
};
