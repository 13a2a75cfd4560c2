// The Kubernetes path: containerd's CRI plugin driven as kubelet drives it,
// over the CRI API (runtime.v1) on containerd's socket, with containerd set
// up from the shipped config/containerd-1.6.toml: strata its only content
// store and CRI's snapshotter. Images come from Debian's docker-registry
// through a hosts.toml; the pod shares the node's network, so no CNI is
// needed, and its sandbox image is a static busybox that sleeps.
//
// STRATA_CONTAINERD_BIN_DIR (a directory with containerd and ctr) and
// STRATA_CONTAINERD_CONFIG (containerd-1.7.toml, say) run the same flow
// against another containerd, such as a 1.7 built from containerd's
// repository; by default it is Debian's containerd 1.6 with the 1.6 file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeToml, startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import { connectCri, criSettings as testCriSettings, NODE_NETWORK, type CriClient } from '../support/cri-client';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { shippedConfigFor, type ShippedConfig } from '../../native-bench/harness/shipped-configs';
import { listAll } from '../support/strata-grpc';
import { dir, file, symlink } from '../support/tar-entries';
import { tearDown } from '../support/teardown';
import { diffTrees, formatDifferences, readTree } from '../support/tree';

const BIN_DIR = process.env.STRATA_CONTAINERD_BIN_DIR;
const CONTAINERD = BIN_DIR === undefined ? undefined : path.join(BIN_DIR, 'containerd');
const CONFIG = (process.env.STRATA_CONTAINERD_CONFIG ?? 'containerd-1.6.toml') as ShippedConfig;
const K8S_NAMESPACE = 'k8s.io';

interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  log_directory: string;
  linux: { security_context: { namespace_options: { network: string } } };
}

/** containerd's version, from CRI's Version: the ImageFsInfo path depends on it. */
function readsExportsRoot(version: string): boolean {
  const [major, minor, patch] = version.split(/[.~+-]/).map(Number);
  if (major >= 2) return true;
  if (major === 1 && minor === 6) return patch >= 32;
  if (major === 1 && minor === 7) return patch >= 16;
  return false;
}

describe(`Kubernetes through CRI: containerd (${CONFIG}) with strata as content store and snapshotter`, { timeout: 600_000 }, () => {
  let workDir = '';
  let registry: Registry;
  let strata: Strata;
  let containerd: Containerd;
  let builtIn: Containerd | undefined;
  let cri: CriClient;
  let client: StrataClient;
  let busybox: OciArchive;
  let pause: OciArchive;
  let tree: InputImage;
  let strataRoot = '';
  let runtimeVersion = '';

  const remote = (name: string) => `${registry.host}/${name}`;

  /** containerd's CRI config for a test: the sandbox image, the registry's hosts.toml, no OOM score it cannot set, and a fast stats loop. */
  function criSettings(snapshotter?: string): Record<string, unknown> {
    return testCriSettings(path.join(workDir, 'certs.d'), {
      sandbox_image: remote('strata-e2e/pause:1'),
      // Snapshot usage for ImageFsInfo every second instead of every 10.
      stats_collect_period: 1,
      ...(snapshotter ? { containerd: { snapshotter } } : {}),
    });
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-cri-'));
    const busyboxLayer = [
      dir('bin', { mode: 0o755 }),
      file('bin/busybox', await fs.promises.readFile('/bin/busybox'), { mode: 0o755 }),
      symlink('bin/sh', 'busybox'),
      symlink('bin/sleep', 'busybox'),
      symlink('bin/cat', 'busybox'),
      dir('tmp', { mode: 0o1777 }),
    ];
    const archiveDir = async (name: string) => fs.promises.mkdtemp(path.join(workDir, `${name}-`));
    busybox = await buildOciArchive({ dir: await archiveDir('busybox'), imageName: 'strata-e2e/busybox:cri', layers: [busyboxLayer], runConfig: { Cmd: ['/bin/sh'] } });
    pause = await buildOciArchive({
      dir: await archiveDir('pause'),
      imageName: 'strata-e2e/pause:1',
      layers: [busyboxLayer],
      runConfig: { Entrypoint: ['/bin/busybox', 'sleep', '3650d'] },
    });
    [tree] = await generatedImages(path.join(workDir, 'inputs'), 'whiteouts', ['gzip'], 0.02);
    registry = await startRegistry();
    await registry.push(busybox.archivePath, 'strata-e2e/busybox:cri');
    await registry.push(pause.archivePath, 'strata-e2e/pause:1');
    await registry.push(tree.layoutDir, 'strata-e2e/whiteouts:cri');
    const hosts = path.join(workDir, 'certs.d', registry.host);
    await fs.promises.mkdir(hosts, { recursive: true });
    await fs.promises.writeFile(path.join(hosts, 'hosts.toml'), `server = "http://${registry.host}"\n\n[host."http://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n`);

    strataRoot = path.join(workDir, 'strata-root');
    const socket = path.join(workDir, 'strata.sock');
    // Every call logged, to tell whose differ unpacked.
    const strataConfig = path.join(workDir, 'strata.toml');
    await fs.promises.writeFile(strataConfig, '[log]\nlevel = "debug"\nformat = "json"\n');
    strata = await startStrata({ root: strataRoot, address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log'), configFile: strataConfig });
    client = connect(socket);
    const base = mergeToml(shippedConfigFor(CONFIG, { socket, root: strataRoot }), criSettings());
    containerd = await startContainerd({}, { base, garbageCollection: 'on-deletion', parentDir: workDir, namespace: K8S_NAMESPACE, binary: CONTAINERD });
    cri = connectCri(containerd.address);
  });

  after(() =>
    tearDown(workDir, [
      // Whatever a failed test left running: pods are what outlive containerd (their shims).
      async () => {
        if (!cri) return;
        const { items } = await cri.call<{ items: { id: string }[] }>('ListPodSandbox', {});
        for (const { id } of items) {
          await cri.call('StopPodSandbox', { pod_sandbox_id: id });
          await cri.call('RemovePodSandbox', { pod_sandbox_id: id });
        }
      },
      () => cri?.close(),
      () => client?.close(),
      () => builtIn?.stop(),
      () => containerd?.stop(),
      () => strata?.stop(),
      () => registry?.stop(),
    ]),
  );

  const sandboxConfig = (): PodSandboxConfig => ({
    metadata: { name: 'strata-pod', uid: 'strata-pod-uid', namespace: 'default', attempt: 0 },
    log_directory: path.join(workDir, 'pod-logs'),
    // Host network: the node's network namespace, so no CNI plugin is needed (nor a hostname of its own).
    linux: { security_context: { namespace_options: { network: NODE_NETWORK } } },
  });

  it('runs a pod as kubelet does: pull, sandbox, container, exec, status, stop, remove, and strata is left empty', async (t) => {
    const version = await cri.call<{ runtime_name: string; runtime_version: string; runtime_api_version: string }>('Version', {});
    assert.equal(version.runtime_name, 'containerd');
    assert.equal(version.runtime_api_version, 'v1');
    runtimeVersion = version.runtime_version;

    const image = remote('strata-e2e/busybox:cri');
    const pulled = await cri.call<{ image_ref: string }>('PullImage', { image: { image } });
    const status = await cri.call<{ image: { id: string; repo_tags: string[]; size: number } | null }>('ImageStatus', { image: { image } });
    assert.ok(status.image, 'ImageStatus finds the pulled image');
    assert.equal(status.image.id, pulled.image_ref);
    assert.deepEqual(status.image.repo_tags, [image]);
    // containerd reads the image's blobs from strata, and unpacks it onto strata.
    const blobs = await listAll(client, 'content');
    for (const digest of [busybox.manifestDigest, ...busybox.layerDigests]) assert.ok(blobs.includes(digest), `strata holds ${digest}`);
    const snapshots = await listAll(client, 'snapshots');
    assert.ok(snapshots.some((key) => key.startsWith(`${K8S_NAMESPACE}/`) && key.endsWith(busybox.chainIds[0])), `strata holds the unpacked layer: ${snapshots.join(', ')}`);
    // With a diff proxy in the config (1.7 and later), strata's differ unpacked it; without, containerd's own.
    const applies = fs.readFileSync(path.join(workDir, 'strata.log'), 'utf8').split('\n').filter((line) => line.includes('/containerd.services.diff.v1.Diff/Apply')).length;
    const diffProxy = Object.values(shippedConfigFor(CONFIG, { socket: '', root: '' }).proxy_plugins as Record<string, { type: string }>).some((p) => p.type === 'diff');
    assert.equal(applies > 0, diffProxy, `${applies} Apply calls reached strata`);

    await fs.promises.mkdir(sandboxConfig().log_directory, { recursive: true });
    const { pod_sandbox_id: sandbox } = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config: sandboxConfig() });
    const { container_id: container } = await cri.call<{ container_id: string }>('CreateContainer', {
      pod_sandbox_id: sandbox,
      config: { metadata: { name: 'app', attempt: 0 }, image: { image }, command: ['/bin/sh', '-c', 'sleep 3600'], log_path: 'app.log' },
      sandbox_config: sandboxConfig(),
    });
    await cri.call('StartContainer', { container_id: container });
    const exec = await cri.call<{ stdout: Buffer; stderr: Buffer; exit_code: number }>('ExecSync', {
      container_id: container,
      cmd: ['/bin/sh', '-c', 'echo written-through-cri > /tmp/probe && cat /tmp/probe'],
      timeout: 30,
    });
    assert.equal(exec.exit_code, 0, exec.stderr.toString());
    assert.equal(exec.stdout.toString(), 'written-through-cri\n');
    const containerStatus = await cri.call<{ status: { state: string; image_ref: string } }>('ContainerStatus', { container_id: container });
    assert.equal(containerStatus.status.state, 'CONTAINER_RUNNING');
    // The image's ID, or (containerd 1.6) its repo digest.
    assert.ok([pulled.image_ref, `${remote('strata-e2e/busybox')}@${busybox.manifestDigest}`].includes(containerStatus.status.image_ref), containerStatus.status.image_ref);
    // The container's rootfs and the sandbox's are strata's active snapshots.
    const active = (await listAll(client, 'snapshots')).filter((key) => key.startsWith(`${K8S_NAMESPACE}/`));
    assert.ok(active.length >= 3, `layer, sandbox and container snapshots in strata: ${active.join(', ')}`);

    await cri.call('StopContainer', { container_id: container, timeout: 5 });
    await cri.call('RemoveContainer', { container_id: container });
    await cri.call('StopPodSandbox', { pod_sandbox_id: sandbox });
    await cri.call('RemovePodSandbox', { pod_sandbox_id: sandbox });
    const { items } = await cri.call<{ items: unknown[] }>('ListPodSandbox', {});
    assert.deepEqual(items, []);

    await cri.call('RemoveImage', { image: { image } });
    await cri.call('RemoveImage', { image: { image: remote('strata-e2e/pause:1') } });
    const { images } = await cri.call<{ images: unknown[] }>('ListImages', {});
    assert.deepEqual(images, []);
    // containerd's collector runs on the deletion and removes through strata's API.
    const started = Date.now();
    let left: string[] = [];
    for (;;) {
      left = [...(await listAll(client, 'snapshots')), ...(await listAll(client, 'content'))];
      if (left.length === 0 || Date.now() - started > 30_000) break;
      await sleep(100);
    }
    assert.deepEqual(left, [], 'strata still holds snapshots or blobs after containerd collected');
    t.diagnostic(`containerd ${runtimeVersion}: strata empty ${Date.now() - started} ms after the last RemoveImage`);
  });

  it("ImageFsInfo reports strata's usage, at the image filesystem containerd's version takes", async () => {
    const image = remote('strata-e2e/whiteouts:cri');
    await cri.call('PullImage', { image: { image } });
    const snapshots = (await listAll(client, 'snapshots')).filter((key) => key.startsWith(`${K8S_NAMESPACE}/`));
    let expected = { size: 0, inodes: 0 };
    for (const key of snapshots) {
      const usage = await unaryCall<object, { size: number; inodes: number }>(client.snapshots, 'Usage', { snapshotter: 'strata', key });
      expected = { size: expected.size + usage.size, inodes: expected.inodes + usage.inodes };
    }
    assert.ok(expected.size > 0);
    type FsInfo = { image_filesystems: { fs_id: { mountpoint: string }; used_bytes: { value: number }; inodes_used: { value: number } }[] };
    let info: FsInfo['image_filesystems'][number] | undefined;
    // CRI's stats loop (every second here) asks strata for each new snapshot's usage.
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
      [info] = (await cri.call<FsInfo>('ImageFsInfo', {})).image_filesystems;
      if (info?.used_bytes.value === expected.size) break;
    }
    assert.ok(info);
    assert.deepEqual({ size: info.used_bytes.value, inodes: info.inodes_used.value }, expected);
    const mountpoint = readsExportsRoot(runtimeVersion) ? strataRoot : path.join(containerd.dir, 'root', 'io.containerd.snapshotter.v1.strata');
    assert.equal(info.fs_id.mountpoint, mountpoint);
  });

  it("the image's tree is the one a CRI pull into containerd's built-in overlayfs unpacks", async () => {
    builtIn = await startContainerd({}, { base: criSettings('overlayfs'), parentDir: workDir, namespace: K8S_NAMESPACE });
    const builtInCri = connectCri(builtIn.address);
    try {
      await builtInCri.call('PullImage', { image: { image: remote('strata-e2e/whiteouts:cri') } });
    } finally {
      builtInCri.close();
    }
    const top = tree.chainIds[tree.chainIds.length - 1];
    const viewOf = async (running: Containerd, snapshotter: string) => {
      const target = path.join(workDir, 'views', snapshotter);
      await fs.promises.mkdir(target, { recursive: true });
      await mountPrintedCommands(await running.ctr(['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, `cri-view-${snapshotter}`, top]), target);
      return readTree(target);
    };
    const [onStrata, onOverlayfs] = [await viewOf(containerd, 'strata'), await viewOf(builtIn, 'overlayfs')];
    assert.ok(onStrata.size > 100, `the tree has ${onStrata.size} entries`);
    const differences = diffTrees(onStrata, onOverlayfs, ['strata', 'built-in overlayfs']);
    assert.deepEqual(differences, [], formatDifferences(differences));
  });
});
