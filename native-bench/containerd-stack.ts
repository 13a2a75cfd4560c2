// The containerd stack the end-to-end arms run on: one target per
// snapshotter named with --snapshotter. By default containerd's built-in
// snapshotters run on a private containerd with its own content store and
// differ (btrfs on a loop-mounted btrfs of its own); strata runs on
// another, wired in by the config strata ships for that containerd, beside
// a peer strata whose mirror the mirror-pull arm reads. With
// --containerd-address every snapshotter runs on the user's containerd, in
// a namespace of the bench's own, removed with all it holds at the end; with
// --registry the images are pushed to a repository of the bench's own in
// the user's registry, and deleted from it at the end.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { firstNamespace, type ContainerdTarget } from './arms/containerd';
import { btrfsMissing, mountBtrfs } from './harness/btrfs';
import { containerdClient, startContainerd, type ContainerdClient } from './harness/containerd';
import { parseSnapshotterPlugins, parseVersions, SNAPSHOTTER_PLUGIN_TYPE, type SnapshotterPlugin } from './harness/containerd-plugins';
import { containerdVersion, shippedConfigForVersion } from './harness/containerd-version';
import { removeNamespace } from './harness/namespace-cleanup';
import { ownRepository, usersRepository, type ImageRepository } from './harness/image-repository';
import { freePort, startRegistry } from './harness/registry';
import { shippedConfigFor, type ShippedConfig } from './harness/shipped-configs';
import { startStrata } from './harness/strata';
import type { Stack } from './model';
import type { Services } from './services';

/** What a private containerd can run: its built-in snapshotters, and strata. */
export const PRIVATE_SNAPSHOTTERS = ['overlayfs', 'native', 'btrfs', 'strata'] as const;
export const DEFAULT_SNAPSHOTTERS = ['overlayfs', 'strata'];

export interface StackOptions {
  workDir: string;
  /** The containerd binary, its ctr beside it; Debian's, on PATH, when absent. */
  containerd?: string;
  /** The socket of a containerd already running, used instead of starting one. */
  containerdAddress?: string;
  snapshotters: string[];
  /** HOST[:PORT][/PATH] of the user's registry, used instead of starting one. */
  registry?: string;
  /** The user's registry, and images the user named, over plain HTTP. */
  plainHttp: boolean;
}

/** The mirror-pull arm's set-up: strata's mirror asks a peer strata first. */
export interface StrataMirror {
  target: ContainerdTarget;
  /** ctr's --hosts-dir, with strata's mirror before the registry. */
  hostsDir: string;
  /** The peer's socket, to seed its store. */
  peerSocket: string;
}

export interface ContainerdStack {
  /** In the order the snapshotters were named. */
  targets: ContainerdTarget[];
  /** As containerd describes it, for the report. */
  description: Stack;
  registry: ImageRepository;
  /** Only with the bench's own strata. */
  mirror?: StrataMirror;
}

/** The bench's strata, before the registry it mirrors is known. */
interface PrivateStrata {
  target: ContainerdTarget;
  dir: string;
  /** host:port of its mirror. */
  mirror: string;
  peerSocket: string;
}

/** strata as containerd's content store and snapshotter (and, from 1.7.4, differ), with a peer holding the images' blobs. */
async function startStrataTarget(dir: string, options: StackOptions, shippedConfig: ShippedConfig, services: Services): Promise<PrivateStrata> {
  const strataDir = path.join(dir, 'strata');
  await fs.promises.rm(strataDir, { recursive: true, force: true });
  await fs.promises.mkdir(strataDir, { recursive: true });
  const socket = path.join(strataDir, 'strata.sock');
  // A peer holding the images' blobs, and strata's mirror asking it first.
  const [peerMirror, ownMirror] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  const peerSocket = path.join(strataDir, 'peer.sock');
  const peerConfig = path.join(strataDir, 'peer.toml');
  await fs.promises.writeFile(peerConfig, `[mirror]\naddress = "${peerMirror}"\n`);
  const peer = await startStrata({ root: path.join(strataDir, 'peer-root'), address: peerSocket, backend: 'overlayfs', logFile: path.join(strataDir, 'peer.log'), configFile: peerConfig });
  services.add(() => peer.stop());
  const ownConfig = path.join(strataDir, 'strata.toml');
  // containerd 1.6 applies layers itself: strata can share them only trusting its labels, as docs/kubernetes.md advises for 1.6.
  const shareLayers = shippedConfig === 'containerd-1.6.toml' ? 'trusted' : 'verified';
  await fs.promises.writeFile(ownConfig, `[mirror]\naddress = "${ownMirror}"\npeers = ["http://${peerMirror}"]\n\n[snapshots]\nshare_layers = "${shareLayers}"\n`);
  const root = path.join(strataDir, 'root');
  const strata = await startStrata({ root, address: socket, backend: 'overlayfs', logFile: path.join(strataDir, 'strata.log'), configFile: ownConfig });
  services.add(() => strata.stop());
  // Set up as a user would, from the config strata ships for this containerd:
  // content store and snapshotter, and from 1.7.4 the differ too. CRI is not
  // benchmarked, so it does not run.
  const containerd = await startContainerd(
    {},
    { namespace: 'strata-bench', parentDir: dir, garbageCollection: 'on-deletion', binary: options.containerd, base: shippedConfigFor(shippedConfig, { socket, root }), disabledPlugins: ['io.containerd.grpc.v1.cri'] },
  );
  services.add(() => containerd.stop());
  return { target: { containerd, snapshotter: 'strata' }, dir: strataDir, mirror: ownMirror, peerSocket };
}

/** The targets on containerds of the bench's own. */
async function privateTargets(options: StackOptions, services: Services): Promise<{ targets: Map<string, ContainerdTarget>; strata?: PrivateStrata }> {
  // Before the first start: a containerd strata bench cannot configure, or a
  // machine that cannot make a btrfs, fails here, in one line.
  const shippedConfig = shippedConfigForVersion(await containerdVersion(options.containerd ?? 'containerd'));
  const noBtrfs = options.snapshotters.includes('btrfs') ? await btrfsMissing() : undefined;
  if (noBtrfs) throw new Error(`--snapshotter btrfs: ${noBtrfs}`);
  const dir = path.join(options.workDir, 'containerd');
  await fs.promises.mkdir(dir, { recursive: true });
  const targets = new Map<string, ContainerdTarget>();
  const builtIn = options.snapshotters.filter((name) => name !== 'strata');
  if (builtIn.length > 0) {
    const btrfsRoot = builtIn.includes('btrfs') ? path.join(dir, 'btrfs') : undefined;
    if (btrfsRoot) services.add(await mountBtrfs(btrfsRoot));
    const containerd = await startContainerd({}, { namespace: 'strata-bench', parentDir: dir, garbageCollection: 'on-deletion', binary: options.containerd, btrfsRoot });
    services.add(() => containerd.stop());
    for (const snapshotter of builtIn) targets.set(snapshotter, { containerd, snapshotter });
  }
  const strata = options.snapshotters.includes('strata') ? await startStrataTarget(dir, options, shippedConfig, services) : undefined;
  if (strata) targets.set('strata', strata.target);
  return { targets, strata };
}

/**
 * Every snapshotter on the user's containerd, in a namespace of the
 * bench's own (and the second-namespace arm's beside it), removed with
 * everything in them when the run ends, also when it is interrupted.
 */
async function usersTargets(address: string, namespace: string, options: StackOptions, services: Services): Promise<Map<string, ContainerdTarget>> {
  const containerd = containerdClient(address, namespace, 'ctr');
  await containerd.ctr(['version']).catch((err: Error) => {
    throw new Error(`--containerd-address ${address}: not a containerd (${err.message})`);
  });
  const cleanup = containerdClient(address, namespace, 'ctr', { cleanup: true });
  services.add(async () => {
    for (const made of [namespace, firstNamespace(namespace)]) {
      await removeNamespace(cleanup, made, options.snapshotters).catch((err: Error) =>
        process.stderr.write(`strata bench: could not remove namespace ${made} from the containerd at ${address}: ${err.message.split('\n')[0]}\n`),
      );
    }
  });
  return new Map(options.snapshotters.map((snapshotter) => [snapshotter, { containerd, snapshotter }]));
}

/**
 * The user's registry, under a repository of the bench's own, with what the
 * bench pushed deleted at the end; or else a docker-registry of its own.
 */
async function imageRepository(options: StackOptions, id: string, services: Services): Promise<ImageRepository> {
  if (options.registry === undefined) {
    const registry = await startRegistry();
    services.add(() => registry.stop());
    return ownRepository(registry);
  }
  const prefix = `${options.registry}/strata-bench-${id}`;
  const repository = usersRepository(prefix, options.plainHttp);
  services.add(async () => {
    const refused = await repository.removePushed();
    if (refused) process.stderr.write(`strata bench: the registry did not delete what the bench pushed under ${prefix} (${refused}); delete it there by hand\n`);
  });
  return repository;
}

/** strata's mirror first, then the registry, for ctr's --hosts-dir. */
async function hostsDir(strata: PrivateStrata, registry: ImageRepository): Promise<string> {
  const dir = path.join(strata.dir, 'certs.d');
  await fs.promises.mkdir(path.join(dir, registry.host), { recursive: true });
  const server = `${registry.plainHttp ? 'http' : 'https'}://${registry.host}`;
  await fs.promises.writeFile(path.join(dir, registry.host, 'hosts.toml'), `server = "${server}"\n\n[host."http://${strata.mirror}"]\n  capabilities = ["pull"]\n`);
  return dir;
}

export async function startContainerdStack(options: StackOptions, services: Services): Promise<ContainerdStack> {
  // Names what the run makes in the user's containerd and registry.
  const id = randomBytes(4).toString('hex');
  const { targets, strata } = options.containerdAddress
    ? { targets: await usersTargets(options.containerdAddress, `strata-bench-${id}`, options, services), strata: undefined }
    : await privateTargets(options, services);
  const named = options.snapshotters.map((name) => targets.get(name) as ContainerdTarget);
  const description = await describeStack(named);
  const registry = await imageRepository(options, id, services);
  const mirror = strata ? { target: strata.target, hostsDir: await hostsDir(strata, registry), peerSocket: strata.peerSocket } : undefined;
  return { targets: named, description, registry, mirror };
}

/**
 * The stack as containerd describes it: its version, and each target's
 * snapshotter plugin. A snapshotter it lacks, or that did not load, fails
 * here in one line, before anything is timed.
 */
async function describeStack(targets: ContainerdTarget[]): Promise<Stack> {
  const listed = new Map<ContainerdClient, SnapshotterPlugin[]>();
  const snapshotters: SnapshotterPlugin[] = [];
  for (const { containerd, snapshotter } of targets) {
    const plugins = listed.get(containerd) ?? parseSnapshotterPlugins(await containerd.ctr(['plugins', 'ls', '--detailed', `type==${SNAPSHOTTER_PLUGIN_TYPE}`]));
    listed.set(containerd, plugins);
    const plugin = plugins.find((p) => p.id === snapshotter);
    if (!plugin) throw new Error(`--snapshotter ${snapshotter}: containerd (${containerd.address}) has no such snapshotter; it has ${plugins.map((p) => p.id).join(', ')}`);
    if (plugin.status !== 'ok') throw new Error(`--snapshotter ${snapshotter}: status ${plugin.status} in containerd (${plugin.error})`);
    snapshotters.push(plugin);
  }
  return { containerd: parseVersions(await targets[0].containerd.ctr(['version'])), snapshotters };
}
