// containerd's unpacker (1.6 to 2.x: unpacker.go), with strata as content
// store, snapshotter and differ (1.7+), replayed over gRPC. The unpacker
// Prepares each layer with its chain ID as the snapshot.ref label; on
// AlreadyExists its metadata store Walks for a committed snapshot with that
// label on the same parent and adopts it (metadata/snapshot.go). strata
// unpacks an image's layers early, in parallel, once it sees the unpacker
// at work on the image, and offers them so. Every chain adopted that way
// must be the same tree, at every level, as a sequential unpack's; what
// strata made and nothing claimed must not outlive a restart; nothing
// strata did not verify itself is offered; and an early unpack whose blob
// is deleted stops and leaves nothing behind.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../native-bench/harness/registry';
import { generatedImages } from '../../native-bench/inputs/materialize';
import { unaryCall } from '../../src/client/connect';
import { chainIds } from '../../src/images/resolve';
import { Cleanup, grpcCode, listAll, sha256, startStrataServer, withLog, writeBlob, type StrataServer, type WireMount } from '../support/strata-grpc';
import { scrape } from '../support/prometheus';
import { runStrata } from '../support/strata-cli';
import { tearDown } from '../support/teardown';
import { dir, file, symlink } from '../support/tar-entries';
import { apply, assertSameChains, forRandomStacks, Namespace, REBASE_CASES, removeBlobs, removeChains, tarLayers, unpackLabels, unpackSequentially, upload, type Layer } from '../support/unpack-replay';

const RUNS = Number(process.env.STRATA_FUZZ_RUNS ?? 20);
const ALREADY_EXISTS = 6;
const SNAPSHOT_REF = 'containerd.io/snapshot.ref';
/** The layer whose blob is deleted while it is unpacked early: files enough that its unpack takes a while (10 MB of tar). */
const BIG_LAYER_FILES = 4000;
const BIG_LAYER_FILE_BYTES = 2048;

/** The image's config and manifest, written first, as a pull writes them before any layer. */
async function uploadManifest(server: StrataServer, layers: Layer[]): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
  const configDigest = await writeBlob(server.client.content, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length })),
  };
  await writeBlob(server.client.content, Buffer.from(JSON.stringify(manifest)));
}

interface Unpacked {
  names: string[];
  /** Which layers were offered (AlreadyExists) rather than applied. */
  offered: boolean[];
}

/**
 * The unpacker's loop: for each layer, Prepare on the layer below with the
 * snapshot.ref label; on AlreadyExists, the metadata store's Walk; else
 * Apply and Commit. The blobs of the layers above the first one applied land
 * while it is applied, as the unpacker's background fetch writes them.
 */
async function unpackAsUnpacker(server: StrataServer, layers: Layer[], ns: Namespace): Promise<Unpacked> {
  const diffIds = layers.map((l) => l.diffId);
  const chain = chainIds(diffIds);
  const names: string[] = [];
  const offered: boolean[] = [];
  let fetching: Promise<void> | undefined;
  for (const [i, layer] of layers.entries()) {
    const key = ns.extractKey(chain[i]);
    const labels = unpackLabels(chain, diffIds, i);
    const parent = names[i - 1] ?? '';
    let mounts: WireMount[];
    try {
      mounts = await withLog(server, `Prepare ${key}`, () => server.snapshots.prepare(key, parent, labels));
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
      const found = (await server.snapshots.walk([`labels."${SNAPSHOT_REF}"==${chain[i]},parent==${JSON.stringify(parent)}`])).find((info) => info.kind === 'COMMITTED');
      assert.ok(found, `layer ${i}: AlreadyExists, but no committed snapshot with its snapshot.ref on ${parent}`);
      names.push(found.name);
      offered.push(true);
      continue;
    }
    // The first layer to be applied starts the fetch of it and of all above it, and waits for its own blob.
    if (fetching === undefined) {
      await upload(server, [layer]);
      fetching = upload(server, layers.slice(i + 1));
    }
    await apply(server, layer, mounts, `layer ${i}`);
    const name = ns.key(chain[i]);
    await withLog(server, `Commit ${key}`, () => server.snapshots.commit(name, key, labels));
    names.push(name);
    offered.push(false);
    // The downloads land while that layer is applied (a Prepare that comes first
    // is containerd's to unpack: strata never waits for a blob still downloading).
    await fetching;
  }
  return { names, offered };
}

/**
 * Image.Unpack (rootfs.ApplyLayers: `ctr images pull` and `import`): every
 * blob fetched first, then for each layer a Prepare with no snapshot.ref,
 * an Apply through strata's differ, and a Commit under the chain ID.
 */
async function unpackAsImageUnpack(server: StrataServer, layers: Layer[], ns: Namespace): Promise<string[]> {
  await upload(server, layers);
  const chain = chainIds(layers.map((l) => l.diffId));
  const names: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const key = ns.extractKey(chain[i]);
    const mounts = await withLog(server, `Prepare ${key}`, () => server.snapshots.prepare(key, names[i - 1] ?? ''));
    await apply(server, layer, mounts, `layer ${i}`);
    const name = ns.key(chain[i]);
    await withLog(server, `Commit ${key}`, () => server.snapshots.commit(name, key));
    names.push(name);
  }
  return names;
}

/** Every snapshot, leaves first, and every blob. */
async function removeEverything(server: StrataServer): Promise<void> {
  for (let infos = await server.snapshots.walk([]); infos.length > 0; infos = await server.snapshots.walk([])) {
    const parents = new Set(infos.map((info) => info.parent));
    const leaves = infos.filter((info) => !parents.has(info.name));
    for (const { name } of leaves) await server.snapshots.remove(name);
  }
  for (const digest of await listAll(server.client, 'content')) await unaryCall(server.client.content, 'Delete', { digest });
}

/** strata's snapshots whose names say they are early unpacks. */
async function earlyUnpacks(server: StrataServer): Promise<string[]> {
  return (await listAll(server.client, 'snapshots')).filter((name) => name.startsWith('strata-early-unpack/'));
}

describe('containerd 1.7+ unpacker replayed over gRPC: layers unpacked early and offered with AlreadyExists', { timeout: 20 * 60_000 }, () => {
  let workDir = '';
  const cleanup = new Cleanup();
  let server: StrataServer;
  let ids = 0;
  let metrics = '';
  const counter = async (name: string) => (await scrape(metrics)).get(name) ?? 0;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-early-'));
    metrics = `127.0.0.1:${await freePort()}`;
    server = await startStrataServer(workDir, 'strata-early', 'overlayfs', `[metrics]\naddress = "${metrics}"\n`);

    cleanup.defer('stop strata-early', () => server.stop());
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  /**
   * The unpacker's chain against a sequential one made without snapshot.ref
   * (so nothing is offered to it). Everything is removed afterwards, pass or
   * fail, so that no run is offered what an earlier one left.
   */
  async function assertEarlyIsSequential(layers: Layer[], context: string): Promise<Unpacked> {
    ids += 1;
    try {
      await uploadManifest(server, layers);
      const unpacked = await unpackAsUnpacker(server, layers, new Namespace(`unpacker${ids}`));
      // An offered layer's blob was never fetched; the sequential unpack needs it.
      await upload(server, layers);
      const sequential = await unpackSequentially(server, layers, new Namespace(`seq${ids}`), false);
      await assertSameChains(server, workDir, sequential, unpacked.names, context);
      assert.deepEqual(
        (await listAll(server.client, 'snapshots')).filter((name) => name.startsWith('strata-early-unpack/') && name.endsWith('/active')),
        [],
        `${context}: an early unpack was left active`,
      );
      return unpacked;
    } finally {
      await removeEverything(server);
    }
  }

  it('the multi-layer bench image: every layer above the first is offered, and the trees are a sequential unpack', async () => {
    const [input] = await generatedImages(path.join(workDir, 'inputs'), 'multi-layer', ['gzip'], 0.05);
    const layers = await Promise.all(input.layers.map(async (l) => ({ blob: await fs.promises.readFile(l.file), mediaType: l.descriptor.mediaType, diffId: l.diffId })));
    const { offered } = await assertEarlyIsSequential(layers, 'multi-layer');
    assert.deepEqual(offered, layers.map((_, i) => i > 0), 'the first layer is containerd\'s own; every other one was unpacked early');
  });

  it('whiteouts, opaque directories and made directories over lower layers come out as a sequential unpack, in every compression', async () => {
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const { offered } = await assertEarlyIsSequential(await tarLayers(REBASE_CASES, compression), `rebase cases (${compression})`);
      assert.ok(offered.slice(1).some(Boolean), `rebase cases (${compression}): nothing was offered`);
    }
  });

  it('random layer stacks (the fuzz-layers model): offered or not, every level is a sequential unpack', async () => {
    await forRandomStacks(RUNS, assertEarlyIsSequential);
  });

  it('a layer that writes through a lower symlink is left to containerd, and still comes out right', async () => {
    const layers = await tarLayers(
      [
        [dir('usr'), dir('usr/lib'), file('usr/lib/base', 'base\n'), symlink('lib', 'usr/lib')],
        [file('lib/added', 'through the symlink\n')],
        [file('etc-file', 'independent\n')],
      ],
      'gzip',
    );
    const { offered } = await assertEarlyIsSequential(layers, 'write through a lower symlink');
    assert.deepEqual(offered, [false, false, true]);
  });

  it('a snapshot that only claims a chain by its label is never offered (verified)', async () => {
    // No manifest: nothing is unpacked early, so the only snapshot with the label is the forged one.
    const layers = await tarLayers([[file('base', 'base\n')], [file('claimed', 'never applied\n')]], 'gzip');
    await upload(server, layers);
    const chain = chainIds(layers.map((l) => l.diffId));
    const [base] = await unpackSequentially(server, layers.slice(0, 1), new Namespace('forger-base'));
    await server.snapshots.prepare('forged-active', base);
    await server.snapshots.commit('forged', 'forged-active', { [SNAPSHOT_REF]: chain[1] });
    const key = new Namespace('victim').extractKey(chain[1]);
    await server.snapshots.prepare(key, base, { [SNAPSHOT_REF]: chain[1] });
    await server.snapshots.remove(key);
    await removeChains(server, ['forged'], [base]);
    await removeBlobs(server, layers);
  });

  for (const compression of ['gzip', 'zstd'] as const) {
    it(`Image.Unpack (ctr images pull, import): each Apply above the first takes its early unpack, and the trees are a sequential unpack (${compression})`, async () => {
      const [input] = await generatedImages(path.join(workDir, 'inputs'), 'multi-layer', [compression], 0.05);
      const layers = await Promise.all(input.layers.map(async (l) => ({ blob: await fs.promises.readFile(l.file), mediaType: l.descriptor.mediaType, diffId: l.diffId })));
      const adoptedBefore = await counter('strata_layers_adopted_total');
      try {
        await uploadManifest(server, layers);
        const names = await unpackAsImageUnpack(server, layers, new Namespace(`image-unpack-${compression}`));
        assert.equal((await counter('strata_layers_adopted_total')) - adoptedBefore, layers.length - 1, 'every layer above the first was taken from its early unpack');
        const sequential = await unpackSequentially(server, layers, new Namespace(`image-unpack-seq-${compression}`), false);
        await assertSameChains(server, workDir, sequential, names, `Image.Unpack, multi-layer (${compression})`);
        assert.deepEqual(await earlyUnpacks(server), [], 'an early unpack was left behind');
      } finally {
        await removeEverything(server);
      }
    });
  }

  it('Image.Unpack of the rebase cases and of random stacks: adopted or not, every level is a sequential unpack', async () => {
    const check = async (layers: Layer[], context: string) => {
      ids += 1;
      try {
        await uploadManifest(server, layers);
        const names = await unpackAsImageUnpack(server, layers, new Namespace(`image-unpack${ids}`));
        const sequential = await unpackSequentially(server, layers, new Namespace(`image-unpack-seq${ids}`), false);
        await assertSameChains(server, workDir, sequential, names, context);
      } finally {
        await removeEverything(server);
      }
    };
    for (const compression of ['gzip', 'zstd', 'none'] as const) await check(await tarLayers(REBASE_CASES, compression), `rebase cases (${compression})`);
    await forRandomStacks(RUNS, check);
  });

  it("an image unpacked through Image.Unpack, then pulled by containerd's unpacker: the early unpacks armed for an Apply are offered to its Prepares", { timeout: 120_000 }, async () => {
    // As when `ctr images pull` and then CRI pull one image: the image stays armed for Applies to take its layers.
    const layers = await tarLayers(REBASE_CASES, 'zstd');
    ids += 1;
    await uploadManifest(server, layers);
    // Its layers and their blobs go; its manifest stays, and so does the image's arming.
    await removeChains(server, await unpackAsImageUnpack(server, layers, new Namespace(`image-unpack-first${ids}`)));
    await removeBlobs(server, layers);
    // Every blob lands before the unpacker's first Prepare, so each starts an early unpack for an Apply that never
    // comes: each Prepare must be offered one, not wait ten minutes for that Apply.
    await upload(server, layers);
    const started = Date.now();
    const { offered } = await assertEarlyIsSequential(layers, 'the unpacker after Image.Unpack');
    assert.ok(offered.slice(1).every(Boolean), `offered: ${offered}`);
    assert.ok(Date.now() - started < 60_000, 'a Prepare waited for an Apply');
  });

  it('an image pulled by the unpacker, removed, then unpacked through Image.Unpack: its Applies take the early unpacks', async () => {
    const layers = await tarLayers(REBASE_CASES, 'gzip');
    ids += 1;
    try {
      await uploadManifest(server, layers);
      await unpackAsUnpacker(server, layers, new Namespace(`unpacker-before${ids}`));
    } finally {
      await removeEverything(server);
    }
    // Removed with its manifest, the image is armed afresh by the next pull's way of unpacking.
    const adoptedBefore = await counter('strata_layers_adopted_total');
    try {
      await uploadManifest(server, layers);
      const names = await unpackAsImageUnpack(server, layers, new Namespace(`image-unpack-after${ids}`));
      assert.equal((await counter('strata_layers_adopted_total')) - adoptedBefore, layers.length - 1, 'every layer above the first was taken from its early unpack');
      const sequential = await unpackSequentially(server, layers, new Namespace(`image-unpack-after-seq${ids}`), false);
      await assertSameChains(server, workDir, sequential, names, 'Image.Unpack after the unpacker');
    } finally {
      await removeEverything(server);
    }
  });

  it('a layer whose blob is deleted while it is unpacked early: the early unpack is dropped, nothing else is lost, and the layer unpacks early again once its blob is written again', async () => {
    // Many small incompressible files: the early unpack of the second layer takes a second or so, the Delete a tenth of that to arrive.
    const files = Array.from({ length: BIG_LAYER_FILES }, (_, i) => file(`big/${String(i).padStart(4, '0')}`, randomBytes(BIG_LAYER_FILE_BYTES)));
    const layers = await tarLayers([[dir('base'), file('base/kept', 'kept\n')], [dir('big'), ...files]], 'zstd');
    const diffIds = layers.map((l) => l.diffId);
    const chain = chainIds(diffIds);
    const dropped = () => counter('strata_early_unpacks_total{result="dropped"}');
    const active = async () => (await earlyUnpacks(server)).filter((name) => name.endsWith('/active'));
    try {
      // containerd's unpacker applies and commits the first layer, which arms the image.
      await uploadManifest(server, layers);
      const ns = new Namespace('deleted-blob');
      const key = ns.extractKey(chain[0]);
      const labels = unpackLabels(chain, diffIds, 0);
      const mounts = await server.snapshots.prepare(key, '', labels);
      await upload(server, layers.slice(0, 1));
      await apply(server, layers[0], mounts, 'layer 0');
      const base = ns.key(chain[0]);
      await server.snapshots.commit(base, key, labels);
      const droppedBefore = await dropped();

      // The second layer's blob lands; its early unpack is under way once its active snapshot is listed. The blob is deleted then.
      await upload(server, layers.slice(1));
      for (const deadline = Date.now() + 30_000; (await active()).length === 0; await sleep(5)) {
        assert.ok(Date.now() < deadline, `the second layer was not unpacked early: ${JSON.stringify(await earlyUnpacks(server))}`);
      }
      await removeBlobs(server, layers.slice(1));

      // The early unpack stops, counted as dropped, and leaves nothing: no active snapshot, and none committed for an offer
      // (as there would be, had it run to its end). The first layer's snapshot is all the store holds.
      for (const deadline = Date.now() + 30_000; (await active()).length > 0; await sleep(5)) {
        assert.ok(Date.now() < deadline, 'the early unpack is still active 30 s after its blob was deleted');
      }
      assert.deepEqual(await earlyUnpacks(server), [], 'the early unpack was not stopped by the Delete of its blob');
      assert.equal((await dropped()) - droppedBefore, 1, 'the early unpack was not counted as dropped');
      assert.deepEqual(await listAll(server.client, 'snapshots'), [base]);

      // The blob written again is unpacked early again, and containerd's unpacker is offered both layers: the first
      // one's snapshot as it was, the second from the blob written again (its diff ID checked against the config).
      await upload(server, layers.slice(1));
      const again = await unpackAsUnpacker(server, layers, new Namespace('deleted-blob-again'));
      assert.deepEqual(again.offered, [true, true]);
      assert.equal(again.names[0], base);
      assert.equal((await dropped()) - droppedBefore, 1, 'the second early unpack was dropped');
      // The first layer's tree is intact: a sequential unpack's.
      const sequential = await unpackSequentially(server, layers.slice(0, 1), new Namespace('deleted-blob-seq'), false);
      await assertSameChains(server, workDir, sequential, [base], 'the first layer, after the Delete of the second one\'s blob');
    } finally {
      await removeEverything(server);
    }
  });

  it('with share_layers = "off", nothing is unpacked early and nothing is offered', async () => {
    const off = await startStrataServer(workDir, 'strata-off', 'overlayfs', '[snapshots]\nshare_layers = "off"\n');
    try {
      const layers = await tarLayers(REBASE_CASES, 'gzip');
      await uploadManifest(off, layers);
      const { names, offered } = await unpackAsUnpacker(off, layers, new Namespace('off'));
      assert.deepEqual(offered, layers.map(() => false));
      assert.deepEqual(await listAll(off.client, 'snapshots'), [...names].sort());
      // A second pull of the same image, in another namespace, unpacks every layer again.
      const again = await unpackAsUnpacker(off, layers, new Namespace('off-again'));
      assert.deepEqual(again.offered, layers.map(() => false));
    } finally {
      await off.stop();
    }
  });

  it("with strata's own collector (gc.mode = labels), a chain shared by two namespaces stays while either holds it", async () => {
    const own = await startStrataServer(workDir, 'strata-labels', 'overlayfs', '[gc]\nmode = "labels"\n');
    const gc = async () => {
      const run = await runStrata(['gc', '--address', own.address, '--json']);
      assert.equal(run.code, 0, run.stderr);
    };
    try {
      const layers = await tarLayers(REBASE_CASES.slice(0, 3), 'gzip');
      await uploadManifest(own, layers);
      // Each namespace roots the top of the chain as containerd does: a label on a blob of its own (the image's config).
      const root = (namespace: string, top: string) =>
        writeBlob(own.client.content, Buffer.from(`${namespace} config`), { labels: { 'containerd.io/gc.root': namespace, 'containerd.io/gc.ref.snapshot.strata': top } });
      const a = await unpackAsUnpacker(own, layers, new Namespace('a'));
      const rootA = await root('a', a.names[a.names.length - 1]);
      const b = await unpackAsUnpacker(own, layers, new Namespace('b'));
      assert.deepEqual(b, { names: a.names, offered: layers.map(() => true) }, "b is offered a's chain, every layer of it");
      const rootB = await root('b', b.names[b.names.length - 1]);
      const chain = [...a.names].sort();
      const held = async () => (await listAll(own.client, 'snapshots')).filter((name) => chain.includes(name));

      await unaryCall(own.client.content, 'Delete', { digest: rootA });
      await gc();
      assert.deepEqual(await held(), chain, "a's root is gone, and b's keeps the shared chain");
      await unaryCall(own.client.content, 'Delete', { digest: rootB });
      await gc();
      assert.deepEqual(await listAll(own.client, 'snapshots'), [], 'with no root left, the chain is collected');
    } finally {
      await own.stop();
    }
  });

  it('early unpacks that nothing claimed are gone after a restart; adopted ones stay', async () => {
    // Pull A adopts its early unpacks.
    const adoptedLayers = await tarLayers(REBASE_CASES, 'gzip');
    await uploadManifest(server, adoptedLayers);
    const adopted = await unpackAsUnpacker(server, adoptedLayers, new Namespace('adopted'));
    assert.ok(adopted.offered.slice(1).every(Boolean));
    // Pull B applies its first layer and stops (cancelled): the layers above were unpacked early, and nobody claims them.
    const layers = await tarLayers(
      [
        [dir('a'), file('a/one', '1\n')],
        [file('a/two', '2\n')],
        [file('b', '3\n')],
      ],
      'zstd',
    );
    await uploadManifest(server, layers);
    await upload(server, layers);
    const diffIds = layers.map((l) => l.diffId);
    const chain = chainIds(diffIds);
    const ns = new Namespace('abandoned');
    const key = ns.extractKey(chain[0]);
    const labels = unpackLabels(chain, diffIds, 0);
    await apply(server, layers[0], await server.snapshots.prepare(key, '', labels), 'layer 0');
    const base = ns.key(chain[0]);
    await server.snapshots.commit(base, key, labels);
    const unclaimed = async () => (await earlyUnpacks(server)).filter((name) => chain.some((c) => name.endsWith(`/${c}`)));
    const deadline = Date.now() + 60_000;
    while ((await unclaimed()).length < layers.length - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await unclaimed()).length, layers.length - 1, 'the layers above the first were unpacked early');

    await server.stop();
    server = await startStrataServer(workDir, 'strata-early', 'overlayfs', `[metrics]\naddress = "${metrics}"\n`);
    assert.deepEqual(await unclaimed(), [], 'unclaimed early unpacks outlived the restart');
    for (const name of adopted.names) assert.equal((await server.snapshots.stat(name)).kind, 'COMMITTED', `${name} was adopted, and must survive a restart`);
    await removeChains(server, adopted.names, [base]);
    await removeBlobs(server, [...adoptedLayers, ...layers]);
    assert.deepEqual(await listAll(server.client, 'snapshots'), []);
  });
});
