// Early unpacks under real containerd, through the path that sends
// snapshot.ref: CRI's PullImage (containerd's unpacker), with the containerd
// and share_layers mode of test/support/containerd-under-test.ts.
//
// The layers above the first must be offered (AlreadyExists) rather than
// unpacked by containerd; the image's tree must be the one a CRI pull into
// containerd's built-in overlayfs unpacks; strata must hold exactly the
// image's snapshots; and once the image is removed, nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeToml, startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { shippedConfigFor } from '../../native-bench/harness/shipped-configs';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { connect, type StrataClient } from '../../src/client/connect';
import { CONFIG, CONTAINERD, SHARE_LAYERS } from '../support/containerd-under-test';
import { connectCri, criSettings, type CriClient } from '../support/cri-client';
import { listAll } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import { diffTrees, formatDifferences, readTree, type Tree } from '../support/tree';

const K8S_NAMESPACE = 'k8s.io';

/** strata's log lines for Prepares it answered AlreadyExists. */
function offeredPrepares(logFile: string): number {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('/containerd.services.snapshots.v1.Snapshots/Prepare') && line.includes('"code":"AlreadyExists"')).length;
}

describe(`early unpacks under containerd (${CONFIG}, share_layers = "${SHARE_LAYERS}"), pulled through CRI`, { timeout: 600_000 }, () => {
  let workDir = '';
  let registry: Registry;
  let strata: Strata;
  let containerd: Containerd;
  let builtIn: Containerd | undefined;
  let cri: CriClient;
  let client: StrataClient;
  let image: InputImage;
  let logFile = '';

  const remote = () => `${registry.host}/strata-e2e/multi-layer:cri`;

  const settings = (snapshotter?: string) => criSettings(path.join(workDir, 'certs.d'), snapshotter ? { containerd: { snapshotter } } : {});

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-early-cri-'));
    [image] = await generatedImages(path.join(workDir, 'inputs'), 'multi-layer', ['gzip'], 0.05);
    registry = await startRegistry();
    await registry.push(image.layoutDir, 'strata-e2e/multi-layer:cri');
    const hosts = path.join(workDir, 'certs.d', registry.host);
    await fs.promises.mkdir(hosts, { recursive: true });
    await fs.promises.writeFile(path.join(hosts, 'hosts.toml'), `server = "http://${registry.host}"\n\n[host."http://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n`);

    const root = path.join(workDir, 'strata-root');
    const socket = path.join(workDir, 'strata.sock');
    logFile = path.join(workDir, 'strata.log');
    const strataConfig = path.join(workDir, 'strata.toml');
    await fs.promises.writeFile(strataConfig, `[log]\nformat = "json"\n\n[snapshots]\nshare_layers = "${SHARE_LAYERS}"\n`);
    strata = await startStrata({ root, address: socket, backend: 'overlayfs', logFile, configFile: strataConfig });
    client = connect(socket);
    const base = mergeToml(shippedConfigFor(CONFIG, { socket, root }), settings());
    containerd = await startContainerd({}, { base, garbageCollection: 'on-deletion', parentDir: workDir, namespace: K8S_NAMESPACE, binary: CONTAINERD });
    cri = connectCri(containerd.address);
  });

  after(() =>
    tearDown(workDir, [
      () => cri?.close(),
      () => client?.close(),
      () => builtIn?.stop(),
      () => containerd?.stop(),
      () => strata?.stop(),
      () => registry?.stop(),
    ]),
  );

  async function viewOf(running: Containerd, snapshotter: string): Promise<Tree> {
    const target = path.join(workDir, 'views', snapshotter);
    await fs.promises.mkdir(target, { recursive: true });
    const top = image.chainIds[image.chainIds.length - 1];
    await mountPrintedCommands(await running.ctr(['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, `early-view-${snapshotter}`, top]), target);
    try {
      return await readTree(target);
    } finally {
      await running.ctr(['snapshots', '--snapshotter', snapshotter, 'rm', `early-view-${snapshotter}`]).catch(() => undefined);
    }
  }

  it('the layers above the first are offered, the tree is the built-in overlayfs one, and removing the image leaves strata empty', async (t) => {
    const layers = image.chainIds.length;
    assert.ok(layers >= 4, `the image has ${layers} layers`);
    await cri.call('PullImage', { image: { image: remote() } });
    const offered = offeredPrepares(logFile);
    t.diagnostic(`${offered} of ${layers - 1} layers above the first offered`);
    // A Prepare that comes before its layer's blob has landed is containerd's to unpack; most come after.
    assert.ok(offered >= (layers - 1) / 2, `only ${offered} of ${layers - 1} layers were offered`);

    // strata holds the image's layers and nothing else: no early unpack left over, active or committed.
    const snapshots = await listAll(client, 'snapshots');
    assert.equal(snapshots.length, layers, `strata holds ${snapshots.join(', ')}`);

    builtIn = await startContainerd({}, { base: settings('overlayfs'), parentDir: workDir, namespace: K8S_NAMESPACE });
    const builtInCri = connectCri(builtIn.address);
    try {
      await builtInCri.call('PullImage', { image: { image: remote() } });
    } finally {
      builtInCri.close();
    }
    const [onStrata, onOverlayfs] = [await viewOf(containerd, 'strata'), await viewOf(builtIn, 'overlayfs')];
    assert.ok(onStrata.size > 100, `the tree has ${onStrata.size} entries`);
    const differences = diffTrees(onStrata, onOverlayfs, ['strata', 'built-in overlayfs']);
    assert.deepEqual(differences, [], formatDifferences(differences));

    await cri.call('RemoveImage', { image: { image: remote() } });
    let left: string[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
      left = [...(await listAll(client, 'snapshots')), ...(await listAll(client, 'content'))];
      if (left.length === 0) break;
    }
    assert.deepEqual(left, [], 'strata still holds snapshots or blobs after containerd collected');
  });
});
