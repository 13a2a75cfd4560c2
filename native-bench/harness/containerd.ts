// A private containerd for end-to-end tests and the benchmarks: its own root,
// state, socket and config in a temporary directory, with proxy snapshotters
// (and, optionally, a proxy content store) wired in.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'smol-toml';
import { unmountAllUnder } from './mounts';
import { execCommand, startServer, stopServer, waitForSocket } from './processes';

/** Namespace for everything the tests create, so nothing mixes with other users of ctr. */
export const NAMESPACE = 'strata-e2e';

/** A containerd to talk to, whoever started it. */
export interface ContainerdClient {
  address: string;
  namespace: string;
  /** Runs `ctr --address ADDRESS -n NAMESPACE ARGS...` (or in `inNamespace`) and returns its stdout; throws with stderr on failure. */
  ctr(args: string[], inNamespace?: string): Promise<string>;
}

/** A private containerd. */
export interface Containerd extends ContainerdClient {
  dir: string;
  /** The end of containerd's log, for error messages. */
  logTail(): string;
  /** Unmounts everything under dir, stops containerd and deletes dir. */
  stop(): Promise<void>;
}

/** Snapshotter name → unix socket of the process serving it. */
export type ProxySnapshotters = Record<string, string>;

/**
 * When containerd's garbage collector runs.
 * - 'deferred' (the default): beyond the life of a test; see config().
 * - 'on-deletion': as soon as something is deleted or a synchronous
 *   collection is asked for (`ctr leases rm --sync`), as a default containerd
 *   would; still never merely because many things were added.
 */
export type GarbageCollection = 'deferred' | 'on-deletion';

/** A parsed TOML document. */
export type TomlTable = Record<string, unknown>;

export interface ContainerdOptions {
  /**
   * Proxy content stores, name → unix socket. containerd uses one content
   * store, so its own must be disabled too: list
   * io.containerd.content.v1.content in disabledPlugins.
   */
  proxyContentStores?: Record<string, string>;
  /** Plugin IDs disabled on top of the ones this module always disables. */
  disabledPlugins?: string[];
  garbageCollection?: GarbageCollection;
  /** What ctr() works in; NAMESPACE by default. */
  namespace?: string;
  /** Where containerd's directory goes (its root and state); the system's temporary directory by default. */
  parentDir?: string;
  /**
   * A containerd config (version 2) to start from, such as a shipped one:
   * its proxy plugins, disabled plugins and plugin settings are kept; root,
   * state, the socket and garbage collection are this module's. With it,
   * the CRI plugin is not disabled.
   */
  base?: TomlTable;
  /** The containerd to run, with its ctr beside it; Debian's (on PATH) by default. */
  binary?: string;
  /** Enables containerd's btrfs snapshotter, off otherwise, with its snapshots in this directory, which must be on btrfs. */
  btrfsRoot?: string;
}

const BTRFS = 'io.containerd.snapshotter.v1.btrfs';

/** Plugins no test needs, always disabled (CRI unless the config sets it up, btrfs unless asked for). */
const ALWAYS_DISABLED = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.internal.v1.opt',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.snapshotter.v1.aufs',
  BTRFS,
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` laid on `under`, tables merged key by key, anything else replaced. */
export function mergeToml(under: TomlTable, over: TomlTable): TomlTable {
  const merged: TomlTable = { ...under };
  for (const [key, value] of Object.entries(over)) {
    merged[key] = isTable(value) && isTable(merged[key]) ? mergeToml(merged[key] as TomlTable, value) : value;
  }
  return merged;
}

function config(dir: string, address: string, proxies: ProxySnapshotters, options: ContainerdOptions): string {
  const base = options.base ?? {};
  const alwaysDisabled = ALWAYS_DISABLED.filter((id) => !(options.base && id === 'io.containerd.grpc.v1.cri') && !(options.btrfsRoot && id === BTRFS));
  const disabled = [...new Set([...((base.disabled_plugins as string[] | undefined) ?? []), ...alwaysDisabled, ...(options.disabledPlugins ?? [])])];
  // Views made with `ctr snapshots view` belong to no lease, so a garbage
  // collection would delete them at a moment of its choosing: from under a
  // mounted view, or between two listings a test compares. Deferred, it is
  // put off beyond the life of a test (no run at startup, and an hour's
  // delay once something asks for one). On deletion: no run at startup and
  // none for additions alone; a deletion, or a synchronous request, starts
  // one at once.
  const deferred = (options.garbageCollection ?? 'deferred') === 'deferred';
  const proxyPlugins: TomlTable = {};
  for (const [name, socket] of Object.entries(proxies)) proxyPlugins[name] = { type: 'snapshot', address: socket };
  for (const [name, socket] of Object.entries(options.proxyContentStores ?? {})) proxyPlugins[name] = { type: 'content', address: socket };
  const own: TomlTable = {
    version: 2,
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    disabled_plugins: disabled,
    grpc: { address },
    plugins: {
      'io.containerd.gc.v1.scheduler': { startup_delay: '0s', schedule_delay: deferred ? '1h' : '0s', mutation_threshold: 1_000_000 },
      ...(options.btrfsRoot ? { [BTRFS]: { root_path: options.btrfsRoot } } : {}),
    },
    proxy_plugins: proxyPlugins,
  };
  return stringify(mergeToml(base, own));
}

/** The containerd listening on `address`, through `ctrBinary`, working in `namespace`; for a cleanup, with `cleanup` (see execCommand). */
export function containerdClient(address: string, namespace: string, ctrBinary: string, options: { cleanup?: boolean } = {}): ContainerdClient {
  const ctr = async (args: string[], inNamespace = namespace): Promise<string> => {
    try {
      const { stdout } = await execCommand(ctrBinary, ['--address', address, '-n', inNamespace, ...args], options);
      return stdout;
    } catch (error) {
      const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : '';
      throw new Error(`ctr ${args.join(' ')} failed: ${stderr || String(error)}`);
    }
  };
  return { address, namespace, ctr };
}

export async function startContainerd(proxies: ProxySnapshotters = {}, options: ContainerdOptions = {}): Promise<Containerd> {
  const dir = await fs.promises.mkdtemp(path.join(options.parentDir ?? os.tmpdir(), 'strata-containerd-'));
  const namespace = options.namespace ?? NAMESPACE;
  const address = path.join(dir, 'containerd.sock');
  const configPath = path.join(dir, 'config.toml');
  await fs.promises.writeFile(configPath, config(dir, address, proxies, options));

  const server = startServer(options.binary ?? 'containerd', ['--config', configPath], path.join(dir, 'containerd.log'));
  const { ctr } = containerdClient(address, namespace, options.binary ? path.join(path.dirname(options.binary), 'ctr') : 'ctr');

  const stop = async (): Promise<void> => {
    // Mounts first: deleting dir through a live bind mount would delete
    // whatever it shows, and containerd cannot remove what is mounted.
    try {
      await unmountAllUnder(dir);
    } finally {
      await stopServer(server, 'SIGTERM', 15_000);
    }
    // containerd may have been mid-way through a temporary mount of its own.
    await unmountAllUnder(dir);
    await fs.promises.rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForSocket(server, address, 20_000);
    await ctr(['version']);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, address, namespace, ctr, logTail: server.logTail, stop };
}
