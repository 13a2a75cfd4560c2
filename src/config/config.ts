// strata's TOML configuration file. Command-line flags override it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import ms from 'ms';
import { parse } from 'smol-toml';
import { BACKEND_NAMES, type BackendName } from './snapshots/backend';

export interface Config {
  root: string;
  address: string;
  backend: BackendName;
  logLevel: string;
  /** syncfs once after every applied layer, even when the client does not ask. */
  syncFs: boolean;
  /** Diff may mount what other snapshotters made, not only strata's own snapshots. */
  foreignMounts: boolean;
  /** The socket's permission bits; it is owned by root and by `socketGid`. */
  socketMode: number;
  socketGid: number;
  /** The largest gRPC message taken in either direction. */
  maxMessageBytes: number;
  /** Calls one connection may have open at once. */
  maxStreamsPerConnection: number;
  /** Applies running at once; the others wait their turn. */
  maxConcurrentApplies: number;
  /** A layer that decompresses to more is refused. */
  maxUncompressedBytes: number;
  /** A layer that decompresses past 1 GiB at a higher ratio is refused; 0 is no limit. */
  maxCompressionRatio: number;
  /** Who deletes: containerd through the API (the default), or strata's own collector by containerd's labels. */
  gcMode: GcMode;
  /** The name containerd's config gives strata's snapshotter, as it appears in gc.ref.snapshot.<name> labels. */
  snapshotterName: string;
  /** In gc.mode = labels: how often the collector runs by itself; 0 is never (only `strata gc`). */
  gcIntervalMs: number;
  /** In gc.mode = labels: an ingest untouched for longer is collected. */
  gcIngestMaxAgeMs: number;
}

export const GC_MODES = ['containerd', 'labels'] as const;
export type GcMode = (typeof GC_MODES)[number];

export const DEFAULTS: Config = {
  root: '/var/lib/strata',
  address: '/run/strata/strata.sock',
  backend: 'overlayfs',
  logLevel: 'info',
  syncFs: false,
  foreignMounts: false,
  socketMode: 0o660,
  socketGid: 0,
  // containerd's own limit.
  maxMessageBytes: 16 << 20,
  maxStreamsPerConnection: 1000,
  maxConcurrentApplies: Math.max(2, availableParallelism()),
  maxUncompressedBytes: 64 * 2 ** 30,
  maxCompressionRatio: 10_000,
  gcMode: 'containerd',
  snapshotterName: 'strata',
  gcIntervalMs: 0,
  // A day: how long containerd's client leases last by default.
  gcIngestMaxAgeMs: 24 * 3600_000,
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function loadConfigFile(file: string): Partial<Config> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`config ${file}: ${(err as Error).message}`);
  }
  const config: Partial<Config> = {};
  for (const [key, value] of Object.entries(doc)) {
    switch (key) {
      case 'root':
      case 'address':
        config[key] = expectString(file, key, value);
        break;
      case 'snapshotter_name':
        config.snapshotterName = expectString(file, key, value);
        break;
      case 'gc': {
        const gc = expectTable(file, key, value);
        for (const [gcKey, gcValue] of Object.entries(gc)) {
          if (gcKey === 'mode') config.gcMode = checkGcMode(expectString(file, 'gc.mode', gcValue), `config ${file}`);
          else if (gcKey === 'interval') config.gcIntervalMs = expectDuration(file, 'gc.interval', gcValue);
          else if (gcKey === 'ingest_max_age') config.gcIngestMaxAgeMs = expectDuration(file, 'gc.ingest_max_age', gcValue);
          else throw new Error(`config ${file}: unknown key gc.${gcKey} ([gc] takes mode, interval and ingest_max_age)`);
        }
        break;
      }
      case 'grpc': {
        const grpc = expectTable(file, key, value);
        for (const [grpcKey, grpcValue] of Object.entries(grpc)) {
          if (grpcKey === 'max_message_bytes') config.maxMessageBytes = expectCount(file, 'grpc.max_message_bytes', grpcValue, 4096);
          else if (grpcKey === 'max_streams_per_connection') config.maxStreamsPerConnection = expectCount(file, 'grpc.max_streams_per_connection', grpcValue, 1);
          else throw new Error(`config ${file}: unknown key grpc.${grpcKey} ([grpc] takes max_message_bytes and max_streams_per_connection)`);
        }
        break;
      }
      case 'socket': {
        const socket = expectTable(file, key, value);
        for (const [socketKey, socketValue] of Object.entries(socket)) {
          if (socketKey === 'mode') config.socketMode = expectMode(file, socketValue);
          else if (socketKey === 'gid') config.socketGid = expectId(file, 'socket.gid', socketValue);
          else throw new Error(`config ${file}: unknown key socket.${socketKey} ([socket] takes mode and gid)`);
        }
        break;
      }
      case 'backend':
        config.backend = checkBackend(expectString(file, key, value), `config ${file}`);
        break;
      case 'log': {
        const log = expectTable(file, key, value);
        if (log.level !== undefined) config.logLevel = checkLogLevel(expectString(file, 'log.level', log.level), file);
        break;
      }
      case 'diff': {
        const diff = expectTable(file, key, value);
        for (const [diffKey, diffValue] of Object.entries(diff)) {
          if (diffKey === 'sync_fs') config.syncFs = expectBoolean(file, 'diff.sync_fs', diffValue);
          else if (diffKey === 'foreign_mounts') config.foreignMounts = expectBoolean(file, 'diff.foreign_mounts', diffValue);
          else if (diffKey === 'max_concurrent_applies') config.maxConcurrentApplies = expectCount(file, 'diff.max_concurrent_applies', diffValue, 1);
          else if (diffKey === 'max_uncompressed_bytes') config.maxUncompressedBytes = expectCount(file, 'diff.max_uncompressed_bytes', diffValue, 1);
          else if (diffKey === 'max_compression_ratio') config.maxCompressionRatio = expectCount(file, 'diff.max_compression_ratio', diffValue, 0);
          else {
            throw new Error(
              `config ${file}: unknown key diff.${diffKey} ([diff] takes sync_fs, foreign_mounts, max_concurrent_applies, max_uncompressed_bytes and max_compression_ratio)`,
            );
          }
        }
        break;
      }
      default:
        throw new Error(`config ${file}: unknown key ${JSON.stringify(key)}`);
    }
  }
  return config;
}

function expectTable(file: string, key: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`config ${file}: [${key}] must be a table`);
  }
  return value as Record<string, unknown>;
}

/** "30m", "24h", "0" (off): a duration as the ms package reads it. */
function expectDuration(file: string, key: string, value: unknown): number {
  const duration = typeof value === 'string' ? ms(value as ms.StringValue) : undefined;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
    throw new Error(`config ${file}: ${key} must be a duration such as "30m" or "24h", not ${JSON.stringify(value)}`);
  }
  return duration;
}

/** 0o660 in TOML, or "0660". Nobody but root and the group may connect: no bits for others. */
function expectMode(file: string, value: unknown): number {
  const mode = typeof value === 'string' && /^0?[0-7]{3}$/.test(value) ? parseInt(value, 8) : value;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o770 || (mode & 0o7) !== 0) {
    throw new Error(`config ${file}: socket.mode must be an octal mode with no bits for others, such as "0660", not ${JSON.stringify(value)}`);
  }
  return mode;
}

function expectBoolean(file: string, key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`config ${file}: ${key} must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

function expectCount(file: string, key: string, value: unknown, least: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
    throw new Error(`config ${file}: ${key} must be a whole number of at least ${least}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function expectId(file: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xfffffffe) {
    throw new Error(`config ${file}: ${key} must be a numeric id, not ${JSON.stringify(value)}`);
  }
  return value;
}

function expectString(file: string, key: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new Error(`config ${file}: ${key} must be a non-empty string`);
  return value;
}

export function checkBackend(value: string, where: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new Error(`${where}: backend must be one of ${BACKEND_NAMES.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as BackendName;
}

export function checkGcMode(value: string, where: string): GcMode {
  if (!(GC_MODES as readonly string[]).includes(value)) {
    throw new Error(`${where}: gc.mode must be one of ${GC_MODES.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as GcMode;
}

function checkLogLevel(value: string, file: string): string {
  if (!LOG_LEVELS.includes(value)) throw new Error(`config ${file}: log.level must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}
