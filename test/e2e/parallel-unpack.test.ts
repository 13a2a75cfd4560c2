// containerd 2.2's parallel unpack, replayed over gRPC. With capabilities =
// ["rebase"] on a proxy snapshotter and max_concurrent_unpacks above 1,
// containerd's unpacker (core/unpack/unpacker.go, v2.2.0 to v2.3.x) prepares
// every layer without a parent, applies them at once, and commits them in
// order, each with `parent` naming the layer below; its metadata store hands
// the proxy keys and names of the form NAMESPACE/SEQUENCE/NAME, and only the
// labels under containerd.io/snapshot/ (plus snapshot.ref). containerd 2.x
// cannot be built here (it needs Go 1.22), so these are its calls, made by
// hand: for every test image the chain committed that way must be the same
// tree, at every level and through every later View and Mounts, as the one a
// sequential unpack commits. Bad rebases get containerd's codes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generatedImages } from '../../native-bench/inputs/materialize';
import { IMAGE_NAMES } from '../../native-bench/inputs/generators';
import { chainIds } from '../../src/images/resolve';
import { edgeCaseLayers, EDGE_CASE_IMAGE } from '../support/edge-case-layers';
import { buildOciArchive } from '../support/oci-archive';
import { readArchiveLayers } from '../support/oci-archive-reader';
import { Cleanup, grpcCode, listAll, startStrataServer, withLog, type StrataServer, type WireMount } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import {
  apply,
  assertSameChains,
  forRandomStacks,
  Namespace,
  REBASE_CASES,
  removeBlobs,
  removeChains,
  tarLayers,
  unpackLabels,
  unpackSequentially,
  upload,
  type Layer,
} from '../support/unpack-replay';

const RUNS = Number(process.env.STRATA_FUZZ_RUNS ?? 20);

const CODES = { NOT_FOUND: 5, FAILED_PRECONDITION: 9, INVALID_ARGUMENT: 3, UNIMPLEMENTED: 12 };

/**
 * The parallel unpack as containerd 2.2 makes it: every Prepare without a
 * parent, the Applies at once (max_concurrent_unpacks of them), then each
 * Commit in order, naming the layer below as its parent.
 */
async function unpackInParallel(server: StrataServer, layers: Layer[], ns: Namespace, concurrency = 3): Promise<string[]> {
  const diffIds = layers.map((l) => l.diffId);
  const chain = chainIds(diffIds);
  const prepared: { key: string; mounts: WireMount[] }[] = [];
  for (const i of layers.keys()) {
    const key = ns.extractKey(chain[i]);
    const mounts = await withLog(server, `Prepare ${key}`, () => server.snapshots.prepare(key, '', unpackLabels(chain, diffIds, i)));
    assert.deepEqual(mounts.map((m) => m.type), ['bind'], `a parentless snapshot is one bind mount: ${JSON.stringify(mounts)}`);
    prepared.push({ key, mounts });
  }
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < layers.length; i = next++) await apply(server, layers[i], prepared[i].mounts, `layer ${i} (parallel)`);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const names: string[] = [];
  for (const [i, { key }] of prepared.entries()) {
    const name = ns.key(chain[i]);
    await withLog(server, `Commit ${key} onto ${names[i - 1] ?? 'nothing'}`, () =>
      server.snapshots.commit(name, key, unpackLabels(chain, diffIds, i), names[i - 1] ?? ''),
    );
    names.push(name);
  }
  return names;
}

describe('containerd 2.2 parallel unpack, replayed over gRPC: rebase at Commit', { timeout: 30 * 60_000 }, () => {
  let workDir = '';
  const cleanup = new Cleanup();
  let overlay: StrataServer;
  let ids = 0;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-parallel-'));
    // Sharing off: a Prepare with a layer's snapshot.ref must get a new snapshot here, not the other chain's.
    overlay = await startStrataServer(workDir, 'strata-overlayfs', 'overlayfs', '[snapshots]\nshare_layers = "off"\n');
    cleanup.defer('stop strata-overlayfs', () => overlay.stop());
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  /** Unpacks `layers` both ways in namespaces of their own, compares, and removes both chains and the blobs. */
  async function assertParallelIsSequential(layers: Layer[], context: string): Promise<void> {
    ids += 1;
    await upload(overlay, layers);
    const sequential = await unpackSequentially(overlay, layers, new Namespace(`seq${ids}`));
    const parallel = await unpackInParallel(overlay, layers, new Namespace(`par${ids}`));
    await assertSameChains(overlay, workDir, sequential, parallel, context);
    await removeChains(overlay, sequential, parallel);
    await removeBlobs(overlay, layers);
  }

  it('the rebase cases: whiteouts, opaque directories and made directories over lower layers, hard links', async () => {
    for (const compression of ['none', 'gzip', 'zstd'] as const) {
      await assertParallelIsSequential(await tarLayers(REBASE_CASES, compression), `rebase cases (${compression})`);
    }
  });

  it('the edge-case image, in every compression', async () => {
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const dirFor = await fs.promises.mkdtemp(path.join(workDir, `edge-${compression}-`));
      const archive = await buildOciArchive({ dir: dirFor, imageName: EDGE_CASE_IMAGE, layers: edgeCaseLayers, compression });
      const layers = (await readArchiveLayers(archive.archivePath)).map((l) => ({ blob: l.blob, mediaType: l.mediaType, diffId: l.diffId }));
      await assertParallelIsSequential(layers, `edge cases (${compression})`);
    }
  });

  for (const image of IMAGE_NAMES) {
    it(`the bench's ${image} image`, async () => {
      const [input] = await generatedImages(path.join(workDir, 'inputs'), image, ['gzip'], 0.02);
      const layers = await Promise.all(
        input.layers.map(async (l) => ({ blob: await fs.promises.readFile(l.file), mediaType: l.descriptor.mediaType, diffId: l.diffId })),
      );
      await assertParallelIsSequential(layers, image);
    });
  }

  it('random layer stacks (the fuzz-layers model)', async () => {
    await forRandomStacks(RUNS, assertParallelIsSequential);
  });

  it('a rebase survives a restart between Apply and Commit', async () => {
    const layers = await tarLayers(REBASE_CASES, 'gzip');
    await upload(overlay, layers);
    const sequential = await unpackSequentially(overlay, layers, new Namespace('before-restart-seq'));
    const ns = new Namespace('before-restart');
    const chain = chainIds(layers.map((l) => l.diffId));
    const keys: string[] = [];
    for (const [i, layer] of layers.entries()) {
      const key = ns.extractKey(chain[i]);
      await apply(overlay, layer, await overlay.snapshots.prepare(key, ''), `layer ${i}`);
      keys.push(key);
    }
    await overlay.stop();
    // Sharing off: a Prepare with a layer's snapshot.ref must get a new snapshot here, not the other chain's.
    overlay = await startStrataServer(workDir, 'strata-overlayfs', 'overlayfs', '[snapshots]\nshare_layers = "off"\n');
    const names: string[] = [];
    for (const [i, key] of keys.entries()) {
      names.push(ns.key(chain[i]));
      await overlay.snapshots.commit(names[i], key, {}, names[i - 1] ?? '');
    }
    await assertSameChains(overlay, workDir, sequential, names, 'after a restart');
    await removeChains(overlay, sequential, names);
    await removeBlobs(overlay, layers);
  });

  it('Prepare keeps containerd 2.3\'s unpack labels, and Commit replaces them with its own', async () => {
    const labels = { 'containerd.io/snapshot.ref': 'sha256:b', 'containerd.io/snapshot/diff-id': 'sha256:d', 'containerd.io/snapshot/parent-chain-id': 'sha256:a' };
    await overlay.snapshots.prepare('labelled', '', labels);
    assert.deepEqual((await overlay.snapshots.stat('labelled')).labels, labels);
    await overlay.snapshots.commit('labelled-committed', 'labelled', { 'containerd.io/snapshot.ref': 'sha256:b' });
    assert.deepEqual((await overlay.snapshots.stat('labelled-committed')).labels, { 'containerd.io/snapshot.ref': 'sha256:b' });
    await overlay.snapshots.remove('labelled-committed');
  });

  it('bad rebases get containerd\'s codes, and leave the snapshot as it was', async () => {
    const s = overlay.snapshots;
    await s.prepare('base-active', '');
    await s.commit('base', 'base-active');
    await s.prepare('other-active', '');
    await s.commit('other', 'other-active');
    await s.prepare('uncommitted', '');
    await s.view('a-view', 'base');
    await s.prepare('has-parent', 'base');
    await s.prepare('orphan', '');
    const attempts: [string, string, string, number, RegExp][] = [
      ['has-parent', 'x1', 'other', CODES.INVALID_ARGUMENT, /cannot change parent/],
      ['orphan', 'x2', 'missing', CODES.NOT_FOUND, /parent missing .*does not exist/],
      ['orphan', 'x3', 'uncommitted', CODES.FAILED_PRECONDITION, /uncommitted is active, not committed/],
      ['orphan', 'x4', 'a-view', CODES.FAILED_PRECONDITION, /a-view is view, not committed/],
      // The cycles: onto itself by its key (gone once committed, so missing, as containerd says), or by its new name.
      ['orphan', 'x5', 'orphan', CODES.NOT_FOUND, /parent orphan of snapshot orphan does not exist/],
      ['orphan', 'x6', 'x6', CODES.INVALID_ARGUMENT, /cannot be its own parent/],
    ];
    for (const [key, name, parent, code, message] of attempts) {
      await assert.rejects(s.commit(name, key, {}, parent), (error: Error) => {
        assert.equal(grpcCode(error), code, `${key} onto ${parent}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
      assert.equal((await s.stat(key)).kind, 'ACTIVE');
      await assert.rejects(s.stat(name), (error) => grpcCode(error) === CODES.NOT_FOUND);
    }
    // Refused, the snapshot still commits: onto its own parent again, and a parentless one onto a good parent.
    await s.commit('has-parent-committed', 'has-parent', {}, 'base');
    assert.equal((await s.stat('has-parent-committed')).parent, 'base');
    await s.commit('orphan-committed', 'orphan', {}, 'other');
    assert.equal((await s.stat('orphan-committed')).parent, 'other');
    for (const key of ['has-parent-committed', 'orphan-committed', 'a-view', 'uncommitted', 'base', 'other']) await s.remove(key);
  });

  it('the native backend refuses a rebase (Unimplemented), and commits the snapshot unchanged without one', async () => {
    const native = await startStrataServer(workDir, 'strata-native', 'native');
    cleanup.defer('stop strata-native', () => native.stop());
    const layers = await tarLayers(REBASE_CASES.slice(0, 2), 'gzip');
    await upload(native, layers);
    const [base] = await unpackSequentially(native, layers.slice(0, 1), new Namespace('native'));
    const mounts = await native.snapshots.prepare('parentless', '');
    await apply(native, layers[1], mounts, 'layer 1');
    await assert.rejects(native.snapshots.commit('rebased', 'parentless', {}, base), (error: Error) => {
      assert.equal(grpcCode(error), CODES.UNIMPLEMENTED, error.message);
      assert.match(error.message, /native backend cannot give a snapshot a parent .*leave "rebase" out of the proxy plugin's capabilities/);
      return true;
    });
    assert.equal((await native.snapshots.stat('parentless')).kind, 'ACTIVE');
    await native.snapshots.commit('unrebased', 'parentless');
    assert.equal((await native.snapshots.stat('unrebased')).parent, '');
    await native.snapshots.remove('unrebased');
    await native.snapshots.remove(base);
    await removeBlobs(native, layers);
    await native.stop();
  });

  it('leaves nothing behind', async () => {
    assert.deepEqual(await listAll(overlay.client, 'snapshots'), []);
    assert.deepEqual(await listAll(overlay.client, 'content'), []);
  });
});
