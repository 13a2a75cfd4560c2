// What `strata serve` runs with, and every key of its TOML file: one table
// that the file loader, `strata config check` and the flags all read.
import { availableParallelism } from 'node:os';
import ms from 'ms';
import { BACKEND_NAMES, type BackendName } from '../snapshots/backend';

export const GC_MODES = ['containerd', 'labels'] as const;
export type GcMode = (typeof GC_MODES)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** auto: JSON lines, or human-readable text when the log goes to a terminal. */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  root: string;
  address: string;
  backend: BackendName;
  logLevel: string;
  logFormat: LogFormat;
  /** Logs go to this file instead of stderr; SIGHUP reopens it, for logrotate. */
  logFile: string;
  /** How long in-flight calls may run on after SIGTERM before they are cancelled. */
  shutdownGraceMs: number;
  /** Where Prometheus metrics and /healthz are served: host:port, or a unix socket path; empty is off. */
  metricsAddress: string;
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
  /** The OCI distribution mirror, host:port; empty is off. */
  mirrorAddress: string;
  /** Other nodes' mirrors, http://host:port. */
  mirrorPeers: string[];
  /** host:port whose A/AAAA records are peers. */
  mirrorPeersDns: string;
  /** How long a peer may take to answer. */
  mirrorPeerTimeoutMs: number;
  /** Blobs from peers are also kept in the local store. */
  mirrorCache: boolean;
  /** Registries, or registry/repository prefixes, mirrored; empty is all. */
  mirrorRegistries: string[];
}

export const DEFAULTS: Config = {
  root: '/var/lib/strata',
  address: '/run/strata/strata.sock',
  backend: 'overlayfs',
  logLevel: 'info',
  logFormat: 'auto',
  logFile: '',
  shutdownGraceMs: 10_000,
  metricsAddress: '',
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
  mirrorAddress: '',
  mirrorPeers: [],
  mirrorPeersDns: '',
  mirrorPeerTimeoutMs: 500,
  mirrorCache: false,
  mirrorRegistries: [],
};

/** Reads one TOML value, or throws what it must be ("must be true or false"). */
type Parse = (value: unknown) => Config[keyof Config];

class ValueError extends Error {}

const describe = (value: unknown) => JSON.stringify(value) ?? String(value);

const nonEmptyString: Parse = (value) => {
  if (typeof value !== 'string' || value === '') throw new ValueError('must be a non-empty string');
  return value;
};

const anyString: Parse = (value) => {
  if (typeof value !== 'string') throw new ValueError(`must be a string, not ${describe(value)}`);
  return value;
};

const oneOf =
  (choices: readonly string[]): Parse =>
  (value) => {
    if (typeof value !== 'string' || !choices.includes(value)) throw new ValueError(`must be one of ${choices.join(', ')}, not ${describe(value)}`);
    return value as Config[keyof Config];
  };

const boolean: Parse = (value) => {
  if (typeof value !== 'boolean') throw new ValueError(`must be true or false, not ${describe(value)}`);
  return value;
};

const count =
  (least: number): Parse =>
  (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
      throw new ValueError(`must be a whole number of at least ${least}, not ${describe(value)}`);
    }
    return value;
  };

/** "30m", "24h", "0" (off): a duration as the ms package reads it. */
const duration: Parse = (value) => {
  const parsed = typeof value === 'string' ? ms(value as ms.StringValue) : undefined;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new ValueError(`must be a duration such as "30m" or "24h", not ${describe(value)}`);
  }
  return parsed;
};

/** 0o660 in TOML, or "0660". Nobody but root and the group may connect: no bits for others. */
const socketMode: Parse = (value) => {
  const mode = typeof value === 'string' && /^0?[0-7]{3}$/.test(value) ? parseInt(value, 8) : value;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o770 || (mode & 0o7) !== 0) {
    throw new ValueError(`must be an octal mode with no bits for others, such as "0660", not ${describe(value)}`);
  }
  return mode;
};

const numericId: Parse = (value) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xfffffffe) {
    throw new ValueError(`must be a numeric id, not ${describe(value)}`);
  }
  return value;
};

/** host:port (a TCP listener) or an absolute path (a unix socket); empty is off. */
const listenAddress: Parse = (value) => {
  if (typeof value !== 'string' || !(value === '' || value.startsWith('/') || /^[^/]*:\d{1,5}$/.test(value))) {
    throw new ValueError(`must be host:port or an absolute unix socket path, not ${describe(value)}`);
  }
  return value;
};

/** host:port for a TCP listener; empty is off. */
const tcpAddress: Parse = (value) => {
  if (typeof value !== 'string' || !(value === '' || /^(?:\[[0-9a-fA-F:]+\]|[^/:\s]+):\d{1,5}$/.test(value))) {
    throw new ValueError(`must be host:port, not ${describe(value)}`);
  }
  return value;
};

const stringList =
  (each: (item: string) => boolean, what: string): Parse =>
  (value) => {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && each(item))) {
      throw new ValueError(`must be a list of ${what}, not ${describe(value)}`);
    }
    return value as string[];
  };

export interface ConfigKey {
  /** As written in the file: a top-level key, or table.key. */
  name: string;
  field: keyof Config;
  parse: Parse;
}

export const CONFIG_KEYS: readonly ConfigKey[] = [
  { name: 'root', field: 'root', parse: nonEmptyString },
  { name: 'address', field: 'address', parse: nonEmptyString },
  { name: 'backend', field: 'backend', parse: oneOf(BACKEND_NAMES) },
  { name: 'snapshotter_name', field: 'snapshotterName', parse: nonEmptyString },
  { name: 'shutdown_grace', field: 'shutdownGraceMs', parse: duration },
  { name: 'log.level', field: 'logLevel', parse: oneOf(LOG_LEVELS) },
  { name: 'log.format', field: 'logFormat', parse: oneOf(LOG_FORMATS) },
  { name: 'log.file', field: 'logFile', parse: anyString },
  { name: 'metrics.address', field: 'metricsAddress', parse: listenAddress },
  { name: 'socket.mode', field: 'socketMode', parse: socketMode },
  { name: 'socket.gid', field: 'socketGid', parse: numericId },
  { name: 'grpc.max_message_bytes', field: 'maxMessageBytes', parse: count(4096) },
  { name: 'grpc.max_streams_per_connection', field: 'maxStreamsPerConnection', parse: count(1) },
  { name: 'diff.sync_fs', field: 'syncFs', parse: boolean },
  { name: 'diff.foreign_mounts', field: 'foreignMounts', parse: boolean },
  { name: 'diff.max_concurrent_applies', field: 'maxConcurrentApplies', parse: count(1) },
  { name: 'diff.max_uncompressed_bytes', field: 'maxUncompressedBytes', parse: count(1) },
  { name: 'diff.max_compression_ratio', field: 'maxCompressionRatio', parse: count(0) },
  { name: 'gc.mode', field: 'gcMode', parse: oneOf(GC_MODES) },
  { name: 'gc.interval', field: 'gcIntervalMs', parse: duration },
  { name: 'gc.ingest_max_age', field: 'gcIngestMaxAgeMs', parse: duration },
  { name: 'mirror.address', field: 'mirrorAddress', parse: tcpAddress },
  { name: 'mirror.peers', field: 'mirrorPeers', parse: stringList((url) => /^https?:\/\/[^/\s]+\/?$/.test(url), 'http://host:port URLs') },
  { name: 'mirror.peers_dns', field: 'mirrorPeersDns', parse: tcpAddress },
  { name: 'mirror.peer_timeout', field: 'mirrorPeerTimeoutMs', parse: duration },
  { name: 'mirror.cache', field: 'mirrorCache', parse: boolean },
  { name: 'mirror.registries', field: 'mirrorRegistries', parse: stringList((entry) => entry !== '' && !entry.includes(' '), 'registries or registry/repository names') },
];

/** Reads one key's value; a bad one throws "KEY must be ...". */
export function parseKey(key: ConfigKey, value: unknown): Config[keyof Config] {
  try {
    return key.parse(value);
  } catch (err) {
    if (err instanceof ValueError) throw new Error(`${key.name} ${err.message}`);
    throw err;
  }
}

export function configKey(name: string): ConfigKey {
  const key = CONFIG_KEYS.find((k) => k.name === name);
  if (!key) throw new Error(`no config key ${name}`);
  return key;
}
