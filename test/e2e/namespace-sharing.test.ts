// One node, several containerd namespaces, one unpack. containerd keeps
// images per namespace and unpacks every layer again in each, unless the
// snapshotter answers the unpacker's Prepare (labelled with the layer's
// chain ID, containerd.io/snapshot.ref) with AlreadyExists: containerd then
// links the committed snapshot with that label into the namespace and skips
// the layer. strata does so for layers it holds, with the containerd and
// share_layers mode of test/support/containerd-under-test.ts (1.6 and
// "trusted" by default). The pulls go through containerd's unpacker, as CRI
// and nerdctl pull (native-bench/go/pull); `ctr images pull` unpacks through
// Image.Unpack and sends no label.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { freePort, startRegistry, type Registry } from '../../native-bench/harness/registry';
import { shippedConfigFor } from '../../native-bench/harness/shipped-configs';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { buildPullClient, pullWithUnpacker } from '../../native-bench/reference-build';
import { connect, type StrataClient } from '../../src/client/connect';
import { CONFIG, CONTAINERD, SHARE_LAYERS } from '../support/containerd-under-test';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { scrape } from '../support/prometheus';
import { listAll } from '../support/strata-grpc';
import { dir, file, symlink } from '../support/tar-entries';
import { tearDown } from '../support/teardown';

describe(`layers shared across containerd namespaces: ${CONFIG}, its unpacker, share_layers = "${SHARE_LAYERS}"`, { timeout: 600_000 }, () => {
  let workDir = '';
  let registry: Registry | undefined;
  let containerd: Containerd | undefined;
  let strata: Strata | undefined;
  let client: StrataClient | undefined;
  let pullClient = '';
  let metrics = '';
  let strataOptions: Parameters<typeof startStrata>[0];
  /** Two images with the same two base layers (one holds busybox) and a top layer each. */
  let app: OciArchive;
  let other: OciArchive;

  const remote = (name: string) => `${(registry as Registry).host}/${name}`;
  const ctrIn = (namespace: string, args: string[]) => (containerd as Containerd).ctr(args, namespace);
  const pull = (namespace: string, image: string) => pullWithUnpacker(pullClient, (containerd as Containerd).address, namespace, 'strata', image, true);
  const strataSnapshots = async () => (await listAll(client as StrataClient, 'snapshots')).length;
  const snapshotDirs = () => fs.readdirSync(path.join(strataOptions.root, 'snapshots')).length;
  const figure = async (name: string) => (await scrape(metrics)).get(name) ?? 0;
  const offered = () => figure('strata_layers_offered_total');

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-namespaces-'));
    pullClient = await buildPullClient(path.join(workDir, 'go'));
    const payload = (name: string, kib: number) => file(name, Buffer.alloc(kib * 1024, name), { mode: 0o644 });
    const base = [dir('srv', { mode: 0o755 }), ...Array.from({ length: 50 }, (_, i) => payload(`srv/base-${i}`, 64))];
    const busybox = [dir('bin', { mode: 0o755 }), file('bin/busybox', await fs.promises.readFile('/bin/busybox'), { mode: 0o755 }), symlink('bin/sh', 'busybox'), dir('tmp', { mode: 0o1777 })];
    // Each archive in a directory of its own: an archive is written as DIR/image.oci.tar.
    const archiveDir = async (name: string) => {
      await fs.promises.mkdir(path.join(workDir, name));
      return path.join(workDir, name);
    };
    app = await buildOciArchive({ dir: await archiveDir('app'), imageName: 'strata-e2e/app:v1', layers: [base, busybox, [payload('srv/app', 256)]] });
    other = await buildOciArchive({ dir: await archiveDir('other'), imageName: 'strata-e2e/other:v1', layers: [base, busybox, [payload('srv/other', 256)]] });
    assert.deepEqual(other.chainIds.slice(0, 2), app.chainIds.slice(0, 2), 'the two images share their base layers');
    registry = await startRegistry();
    await registry.push(app.archivePath, 'strata-e2e/app:v1');
    await registry.push(other.archivePath, 'strata-e2e/other:v1');
    metrics = `127.0.0.1:${await freePort()}`;
    const configFile = path.join(workDir, 'strata.toml');
    await fs.promises.writeFile(configFile, `[snapshots]\nshare_layers = "${SHARE_LAYERS}"\n\n[metrics]\naddress = "${metrics}"\n`);
    const root = path.join(workDir, 'strata-root');
    strataOptions = { root, address: path.join(workDir, 'strata.sock'), backend: 'overlayfs', logFile: path.join(workDir, 'strata.log'), configFile };
    strata = await startStrata(strataOptions);
    client = connect(strataOptions.address);
    containerd = await startContainerd({}, { base: shippedConfigFor(CONFIG, { socket: strataOptions.address, root }), garbageCollection: 'on-deletion', parentDir: workDir, binary: CONTAINERD });
  });

  after(() => tearDown(workDir, [() => client?.close(), () => containerd?.stop(), () => strata?.stop(), () => registry?.stop()]));

  /** Every name, mode, size, owner and mtime under the image's directories, and each file's md5, as a container in `namespace` sees them. */
  const treeIn = (namespace: string, image: string) =>
    ctrIn(namespace, ['run', '--rm', '--snapshotter', 'strata', image, `strata-e2e-tree-${namespace}`, '/bin/sh', '-c', "cd / && find srv bin tmp | sort | while read f; do stat -c '%n %f %s %u %g %Y' \"$f\"; done && find srv -type f | sort | xargs md5sum"]);

  /** A read of a blob through containerd: it fails until containerd has reconnected to a restarted strata. */
  async function untilServed(namespace: string, digest: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await ctrIn(namespace, ['content', 'get', digest]);
        return;
      } catch (err) {
        if (i > 200) throw err;
        await sleep(50);
      }
    }
  }

  it('pulls into namespace a, then, after a restart of strata, into b without unpacking anything: the same snapshots, the same tree', async () => {
    const image = remote('strata-e2e/app:v1');
    await pull('a', image);
    const snapshots = await strataSnapshots();
    const dirs = snapshotDirs();
    assert.equal(snapshots, app.chainIds.length, 'one snapshot per layer after the first pull');

    await (strata as Strata).stop();
    strata = await startStrata(strataOptions);
    await untilServed('a', app.layerDigests[0]);
    const offeredBefore = await offered();

    await pull('b', image);
    assert.equal(await strataSnapshots(), snapshots, 'the pull into b made no snapshot');
    assert.equal(snapshotDirs(), dirs, 'the pull into b made no snapshot directory');
    assert.equal((await offered()) - offeredBefore, app.chainIds.length, 'every layer was offered to b');
    // What b did not spend: at least the base layer's 50 files of 64 KiB, and some time.
    assert.ok((await figure('strata_layer_bytes_shared_total')) >= 50 * 64 * 1024);
    assert.ok((await figure('strata_layer_seconds_saved_total')) > 0);
    const tree = await treeIn('a', image);
    assert.match(tree, /^srv\/app 81a4 262144 0 0 /m);
    assert.equal(await treeIn('b', image), tree);
  });

  it("runs a container in b on the shared layers; b's image is missing the layer blobs it never fetched until `ctr content fetch`", async () => {
    const image = remote('strata-e2e/app:v1');
    const output = await ctrIn('b', ['run', '--rm', '--snapshotter', 'strata', image, 'strata-e2e-in-b', '/bin/sh', '-c', 'ls /srv/app && echo ran-in-b']);
    assert.equal(output.trim(), '/srv/app\nran-in-b');
    // b skipped the layers, so its namespace never fetched their blobs (docs/operating.md).
    const row = (text: string) => text.split('\n').find((line) => line.startsWith(image)) ?? text;
    assert.match(row(await ctrIn('b', ['images', 'check'])), /incomplete/);
    await assert.rejects(ctrIn('b', ['images', 'export', path.join(workDir, 'b.tar'), image]), /not found/);
    await ctrIn('b', ['content', 'fetch', '--plain-http', image]);
    assert.match(row(await ctrIn('b', ['images', 'check'])), /complete \((\d+)\/\1\)/);
    await ctrIn('b', ['images', 'export', path.join(workDir, 'b.tar'), image]);
  });

  it('unpacks only the top layer of an image that shares its base layers with one already on the node', async () => {
    const image = remote('strata-e2e/other:v1');
    const snapshots = await strataSnapshots();
    const dirs = snapshotDirs();
    const offeredBefore = await offered();
    // A namespace of its own: in b, containerd would find the base layers in its own records and ask strata nothing.
    await pull('c', image);
    assert.equal(snapshotDirs(), dirs + 1, 'one new snapshot directory: the top layer');
    assert.equal(await strataSnapshots(), snapshots + 1, 'one new snapshot: the top layer');
    assert.ok((await offered()) - offeredBefore >= 2, 'the two base layers were offered');
    const output = await ctrIn('c', ['run', '--rm', '--snapshotter', 'strata', image, 'strata-e2e-other', '/bin/sh', '-c', 'ls /srv/other /srv/base-0']);
    assert.equal(output.trim(), '/srv/base-0\n/srv/other');
  });

  it("keeps b's layers when a removes the image, and leaves strata empty once every namespace has removed its images", async () => {
    const image = remote('strata-e2e/app:v1');
    const chainsIn = async (namespace: string) => (await ctrIn(namespace, ['snapshots', '--snapshotter', 'strata', 'ls'])).split('\n').filter((line) => line.startsWith('sha256:')).length;
    await ctrIn('a', ['images', 'rm', '--sync', image]);
    assert.equal(await chainsIn('a'), 0);
    assert.equal(await chainsIn('b'), app.chainIds.length, "b's snapshots are kept");
    const output = await ctrIn('b', ['run', '--rm', '--snapshotter', 'strata', image, 'strata-e2e-after-a', '/bin/sh', '-c', 'cat /srv/app | head -c 7']);
    assert.equal(output, 'srv/app');
    await ctrIn('b', ['images', 'rm', '--sync', image]);
    await ctrIn('c', ['images', 'rm', '--sync', remote('strata-e2e/other:v1')]);
    for (let i = 0; (await strataSnapshots()) + (await listAll(client as StrataClient, 'content')).length > 0; i++) {
      assert.ok(i < 100, `strata still holds ${await strataSnapshots()} snapshots and some content after every namespace removed the images`);
      await sleep(100);
    }
  });
});
