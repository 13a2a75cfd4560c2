// What `strata serve` runs with, and every key of its TOML file: one table
// that the file loader, `strata config check` and the flags all read.
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ms from 'ms';
import { SHARE_MODES, type ShareMode } from '../metadata/layer-records';
import { ADDRESS_MAX, SOCKET_PATH_MAX } from '../server/socket-path';
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
  /** Which unpacked layers a Prepare from containerd's unpacker may be given instead of a new unpack. */
  shareLayers: ShareMode;
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
  shareLayers: 'verified',
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

/** A key that takes one of a few words: the flag that overrides it offers the same ones. */
const oneOf = (choices: readonly string[]): Pick<ConfigKey, 'parse' | 'choices'> => ({
  choices,
  parse: (value) => {
    if (typeof value !== 'string' || !choices.includes(value)) throw new ValueError(`must be one of ${choices.join(', ')}, not ${describe(value)}`);
    return value as Config[keyof Config];
  },
});

const boolean: Parse = (value) => {
  if (typeof value !== 'boolean') throw new ValueError(`must be true or false, not ${describe(value)}`);
  return value;
};

const count =
  (least: number, most = Number.MAX_SAFE_INTEGER): Parse =>
  (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least || value > most) {
      const range = most === Number.MAX_SAFE_INTEGER ? `of at least ${least}` : `from ${least} to ${most}`;
      throw new ValueError(`must be a whole number ${range}, not ${describe(value)}`);
    }
    return value;
  };

/** Node's timers hold 2^31-1 ms (24.8 days): a longer one fires at once, after a warning on stderr. */
const TIMER_MOST = '24d';

/** "30m", "24h", "0" (off): a duration as the ms package reads it, within the bounds given. */
const duration =
  ({ least, most }: { least?: ms.StringValue; most?: ms.StringValue } = {}): Parse =>
  (value) => {
    const parsed = typeof value === 'string' ? ms(value as ms.StringValue) : undefined;
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < (least ? ms(least) : 0) || parsed > (most ? ms(most) : Infinity)) {
      const bounds = `${least ? `, at least "${least}"` : ''}${most ? `, at most "${most}"` : ''}`;
      throw new ValueError(`must be a duration such as "30m" or "24h"${bounds}, not ${describe(value)}`);
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

/** strata runs as a service, from wherever its manager starts it: a relative path would lead somewhere by chance. */
function isAbsolutePath(value: unknown): value is string {
  return typeof value === 'string' && path.isAbsolute(value) && !value.includes('\0');
}

const root: Parse = (value) => {
  // "/" would be chmodded to 0700, and its /tmp swept as strata's scratch space.
  if (!isAbsolutePath(value) || path.resolve(value) === '/') throw new ValueError(`must be an absolute path other than /, not ${describe(value)}`);
  return value;
};

function isSocketPath(value: string, most: number): boolean {
  return isAbsolutePath(value) && !value.endsWith('/') && Buffer.byteLength(value) <= most;
}

const grpcAddress: Parse = (value) => {
  if (typeof value !== 'string' || !isSocketPath(value, ADDRESS_MAX)) {
    throw new ValueError(`must be an absolute unix socket path of at most ${ADDRESS_MAX} bytes, not ${describe(value)}`);
  }
  return value;
};

const logFile: Parse = (value) => {
  if (value !== '' && !isAbsolutePath(value)) throw new ValueError(`must be an absolute path, or "" for stderr, not ${describe(value)}`);
  return value;
};

/** A host name, an IPv4 address, or an IPv6 one in brackets. */
function isHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1));
  // Digits and dots are an IPv4 address or nothing: never a name to look up.
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return host.length <= 253 && /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/.test(host);
}

/** host:port with a port from `leastPort` to 65535; an empty host (every address) only where `anyHost`. */
function isHostPort(value: string, { leastPort, anyHost }: { leastPort: 0 | 1; anyHost: boolean }): boolean {
  const match = /^(.*):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const [, host, port] = match;
  return Number(port) >= leastPort && Number(port) <= 65535 && (host === '' ? anyHost : isHost(host));
}

/** host:port (a TCP listener; port 0 is any) or an absolute path (a unix socket); empty is off. */
const listenAddress: Parse = (value) => {
  if (typeof value !== 'string' || !(value === '' || isSocketPath(value, SOCKET_PATH_MAX) || isHostPort(value, { leastPort: 0, anyHost: true }))) {
    throw new ValueError(`must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most ${SOCKET_PATH_MAX} bytes), not ${describe(value)}`);
  }
  return value;
};

/** host:port: a TCP listener (port 0 is any), or peers to reach (port 0 is none); empty is off. */
const tcpAddress =
  (leastPort: 0 | 1): Parse =>
  (value) => {
    if (typeof value !== 'string' || !(value === '' || isHostPort(value, { leastPort, anyHost: false }))) {
      throw new ValueError(`must be host:port, with a port from ${leastPort} to 65535, not ${describe(value)}`);
    }
    return value;
  };

/** http://host[:port], as the mirror asks its peers. */
function isPeerUrl(url: string): boolean {
  const match = /^https?:\/\/([^/\s]+?)\/?$/.exec(url);
  return match !== null && (isHostPort(match[1], { leastPort: 1, anyHost: false }) || isHost(match[1]));
}

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
  /** The words it takes, when it takes one of a few. */
  choices?: readonly string[];
  /** The `strata serve` flag that overrides it. */
  flag?: string;
}

export const CONFIG_KEYS: readonly ConfigKey[] = [
  { name: 'root', field: 'root', parse: root, flag: '--root' },
  { name: 'address', field: 'address', parse: grpcAddress, flag: '--address' },
  { name: 'backend', field: 'backend', ...oneOf(BACKEND_NAMES), flag: '--backend' },
  { name: 'snapshotter_name', field: 'snapshotterName', parse: nonEmptyString },
  { name: 'shutdown_grace', field: 'shutdownGraceMs', parse: duration({ most: TIMER_MOST }) },
  { name: 'log.level', field: 'logLevel', ...oneOf(LOG_LEVELS), flag: '--log-level' },
  { name: 'log.format', field: 'logFormat', ...oneOf(LOG_FORMATS) },
  { name: 'log.file', field: 'logFile', parse: logFile },
  { name: 'metrics.address', field: 'metricsAddress', parse: listenAddress },
  { name: 'socket.mode', field: 'socketMode', parse: socketMode },
  { name: 'socket.gid', field: 'socketGid', parse: numericId },
  { name: 'grpc.max_message_bytes', field: 'maxMessageBytes', parse: count(4096) },
  // An HTTP/2 setting: 32 bits, or every connection fails as it opens.
  { name: 'grpc.max_streams_per_connection', field: 'maxStreamsPerConnection', parse: count(1, 2 ** 32 - 1) },
  { name: 'snapshots.share_layers', field: 'shareLayers', ...oneOf(SHARE_MODES) },
  { name: 'diff.sync_fs', field: 'syncFs', parse: boolean },
  { name: 'diff.foreign_mounts', field: 'foreignMounts', parse: boolean },
  { name: 'diff.max_concurrent_applies', field: 'maxConcurrentApplies', parse: count(1) },
  { name: 'diff.max_uncompressed_bytes', field: 'maxUncompressedBytes', parse: count(1) },
  { name: 'diff.max_compression_ratio', field: 'maxCompressionRatio', parse: count(0) },
  { name: 'gc.mode', field: 'gcMode', ...oneOf(GC_MODES), flag: '--gc-mode' },
  { name: 'gc.interval', field: 'gcIntervalMs', parse: duration({ most: TIMER_MOST }) },
  { name: 'gc.ingest_max_age', field: 'gcIngestMaxAgeMs', parse: duration() },
  { name: 'mirror.address', field: 'mirrorAddress', parse: tcpAddress(0) },
  { name: 'mirror.peers', field: 'mirrorPeers', parse: stringList(isPeerUrl, 'http://host:port URLs') },
  { name: 'mirror.peers_dns', field: 'mirrorPeersDns', parse: tcpAddress(1) },
  // 0 would give up on every peer before it could answer.
  { name: 'mirror.peer_timeout', field: 'mirrorPeerTimeoutMs', parse: duration({ least: '1ms', most: TIMER_MOST }) },
  { name: 'mirror.cache', field: 'mirrorCache', parse: boolean },
  { name: 'mirror.registries', field: 'mirrorRegistries', parse: stringList((entry) => entry !== '' && !entry.includes(' '), 'registries or registry/repository names') },
];

/** Reads one key's value; a bad one throws "KEY must be ...", or "--flag must be ..." when `as` names the flag it came from. */
export function parseKey(key: ConfigKey, value: unknown, as = key.name): Config[keyof Config] {
  try {
    return key.parse(value);
  } catch (err) {
    if (err instanceof ValueError) throw new Error(`${as} ${err.message}`);
    throw err;
  }
}

export function configKey(name: string): ConfigKey {
  const key = CONFIG_KEYS.find((k) => k.name === name);
  if (!key) throw new Error(`no config key ${name}`);
  return key;
}

/** The words a key takes, for its flag's --help and checks. */
export function keyChoices(name: string): readonly string[] {
  const { choices } = configKey(name);
  if (!choices) throw new Error(`config key ${name} takes any value, not one of a few`);
  return choices;
}

/**
 * Two listeners given one address, which serve would only find out once the
 * second failed to bind, or (metrics.address on strata's own socket) once it
 * had taken the gRPC socket's place: the key to change, and why.
 */
export function listenerClash(config: Config): { key: string; message: string } | undefined {
  if (config.metricsAddress.startsWith('/') && path.resolve(config.metricsAddress) === path.resolve(config.address)) {
    return { key: 'metrics.address', message: `metrics.address ${describe(config.metricsAddress)} is strata's gRPC socket (address)` };
  }
  if (config.mirrorAddress !== '' && config.mirrorAddress === config.metricsAddress && !config.mirrorAddress.endsWith(':0')) {
    return { key: 'mirror.address', message: `mirror.address ${describe(config.mirrorAddress)} is metrics.address too` };
  }
  return undefined;
}
