// A private containerd for end-to-end tests: its own root, state, socket and
// config in a temporary directory, with proxy snapshotters wired in.
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
  /** Runs `ctr --address ADDRESS -n strata-e2e ARGS...` and returns its stdout; throws with stderr on failure. */
  ctr(args: string[]): Promise<string>;
  /** Unmounts everything under dir, stops containerd and deletes dir. */
  stop(): Promise<void>;
}

/** Snapshotter name → unix socket of the process serving it. */
export type ProxySnapshotters = Record<string, string>;

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function config(dir: string, address: string, proxies: ProxySnapshotters): string {
  const lines = [
    'version = 2',
    `root = ${tomlString(path.join(dir, 'root'))}`,
    `state = ${tomlString(path.join(dir, 'state'))}`,
    // Only snapshots, content, images and diff are needed. CRI, the /opt
    // installer and the snapshotters this host cannot run only add noise.
    'disabled_plugins = [',
    '  "io.containerd.grpc.v1.cri",',
    '  "io.containerd.internal.v1.opt",',
    '  "io.containerd.tracing.processor.v1.otlp",',
    '  "io.containerd.snapshotter.v1.aufs",',
    '  "io.containerd.snapshotter.v1.btrfs",',
    '  "io.containerd.snapshotter.v1.devmapper",',
    '  "io.containerd.snapshotter.v1.zfs",',
    ']',
    '',
    '[grpc]',
    `  address = ${tomlString(address)}`,
    '',
    // Views made with `ctr snapshots view` belong to no lease, so a garbage
    // collection would delete them at a moment of its choosing: from under a
    // mounted view, or between two listings a test compares. Collection is
    // put off beyond the life of a test instead (no run at startup, and an
    // hour's delay once something asks for one).
    '[plugins."io.containerd.gc.v1.scheduler"]',
    '  startup_delay = "0s"',
    '  schedule_delay = "1h"',
    '  mutation_threshold = 1000000',
  ];
  for (const [name, socket] of Object.entries(proxies)) {
    lines.push('', `[proxy_plugins.${tomlString(name)}]`, '  type = "snapshot"', `  address = ${tomlString(socket)}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startContainerd(proxies: ProxySnapshotters = {}): Promise<Containerd> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-containerd-'));
  const address = path.join(dir, 'containerd.sock');
  const configPath = path.join(dir, 'config.toml');
  await fs.promises.writeFile(configPath, config(dir, address, proxies));

  const server = startServer('containerd', ['--config', configPath], path.join(dir, 'containerd.log'));

  const ctr = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync('ctr', ['--address', address, '-n', NAMESPACE, ...args], {
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
  return { dir, address, ctr, stop };
}
