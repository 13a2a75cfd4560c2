// A private containerd for end-to-end tests and the benchmarks: its own root,
// state, socket and config in a temporary directory, with proxy snapshotters
// (and, optionally, a proxy content store) wired in.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { unmountAllUnder } from './mounts';
import { startServer, stopServer, waitForSocket } from './processes';

const execFileAsync = promisify(execFile);

/** Namespace for everything the tests create, so nothing mixes with other users of ctr. */
export const NAMESPACE = 'strata-e2e';

export interface Containerd {
  dir: string;
  address: string;
  namespace: string;
  /** Runs `ctr --address ADDRESS -n NAMESPACE ARGS...` and returns its stdout; throws with stderr on failure. */
  ctr(args: string[]): Promise<string>;
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
}

/** Plugins no test needs, always disabled. */
const ALWAYS_DISABLED = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.internal.v1.opt',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function config(dir: string, address: string, proxies: ProxySnapshotters, options: ContainerdOptions): string {
  const disabled = [...ALWAYS_DISABLED, ...(options.disabledPlugins ?? [])];
  const lines = [
    'version = 2',
    `root = ${tomlString(path.join(dir, 'root'))}`,
    `state = ${tomlString(path.join(dir, 'state'))}`,
    // Only snapshots, content, images and diff are needed. CRI, the /opt
    // installer and the snapshotters this host cannot run only add noise.
    'disabled_plugins = [',
    ...disabled.map((id) => `  ${tomlString(id)},`),
    ']',
    '',
    '[grpc]',
    `  address = ${tomlString(address)}`,
    '',
  ];
  if ((options.garbageCollection ?? 'deferred') === 'deferred') {
    // Views made with `ctr snapshots view` belong to no lease, so a garbage
    // collection would delete them at a moment of its choosing: from under a
    // mounted view, or between two listings a test compares. Collection is
    // put off beyond the life of a test instead (no run at startup, and an
    // hour's delay once something asks for one).
    lines.push(
      '[plugins."io.containerd.gc.v1.scheduler"]',
      '  startup_delay = "0s"',
      '  schedule_delay = "1h"',
      '  mutation_threshold = 1000000',
    );
  } else {
    // No run at startup and none for additions alone; a deletion, or a
    // synchronous request, starts one at once.
    lines.push(
      '[plugins."io.containerd.gc.v1.scheduler"]',
      '  startup_delay = "0s"',
      '  schedule_delay = "0s"',
      '  mutation_threshold = 1000000',
    );
  }
  for (const [name, socket] of Object.entries(proxies)) {
    lines.push('', `[proxy_plugins.${tomlString(name)}]`, '  type = "snapshot"', `  address = ${tomlString(socket)}`);
  }
  for (const [name, socket] of Object.entries(options.proxyContentStores ?? {})) {
    lines.push('', `[proxy_plugins.${tomlString(name)}]`, '  type = "content"', `  address = ${tomlString(socket)}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startContainerd(proxies: ProxySnapshotters = {}, options: ContainerdOptions = {}): Promise<Containerd> {
  const dir = await fs.promises.mkdtemp(path.join(options.parentDir ?? os.tmpdir(), 'strata-containerd-'));
  const namespace = options.namespace ?? NAMESPACE;
  const address = path.join(dir, 'containerd.sock');
  const configPath = path.join(dir, 'config.toml');
  await fs.promises.writeFile(configPath, config(dir, address, proxies, options));

  const server = startServer('containerd', ['--config', configPath], path.join(dir, 'containerd.log'));

  const ctr = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync('ctr', ['--address', address, '-n', namespace, ...args], {
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : '';
      throw new Error(`ctr ${args.join(' ')} failed: ${stderr || String(error)}`);
    }
  };

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
