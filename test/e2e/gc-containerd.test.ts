// Garbage collection under a real containerd 1.6, with strata as its
// snapshotter and its only content store: removing an image, imported or
// pulled from Debian's docker-registry, with
// `ctr images rm --sync` leaves strata holding no snapshot and no blob, and
// its root back at the size it had before the import, measured. A chain goes
// leaves first, and a parent with a child is refused. What a containerd
// lease holds stays in strata through collections until the lease goes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { buildSpecImage } from '../../src/testing/spec-image';
import { writeBlob } from '../../native-bench/content-writer';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import { listAll, sha256 } from '../support/strata-grpc';
import { EDGE_CASE_IMAGE, edgeCaseLayers } from '../support/edge-case-layers';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { tearDown } from '../support/teardown';

/** Files and bytes under strata's root, without the metadata database, whose pages SQLite keeps. */
async function rootUsage(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  // Names as bytes: the edge-case image has names that are not UTF-8.
  const walk = async (dir: Buffer): Promise<void> => {
    for (const entry of await fs.promises.readdir(dir, { withFileTypes: true, encoding: 'buffer' })) {
      const name = entry.name.toString('latin1');
      const full = Buffer.concat([dir, Buffer.from('/'), entry.name]);
      if (dir.equals(Buffer.from(root)) && (name.startsWith('metadata.db') || name === 'lock')) continue;
      if (entry.isDirectory()) await walk(full);
      else {
        files++;
        bytes += (await fs.promises.lstat(full)).size;
      }
    }
  };
  await walk(Buffer.from(root));
  return { files, bytes };
}

describe('garbage collection under a real containerd 1.6', { timeout: 150_000 }, () => {
  let workDir = '';
  let root = '';
  let image: OciArchive;
  let strata: Strata | undefined;
  let containerd: Containerd | undefined;
  let client: StrataClient;
  let registry: Registry | undefined;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-gc-containerd-'));
    image = await buildOciArchive({ dir: workDir, imageName: EDGE_CASE_IMAGE, layers: edgeCaseLayers, compression: 'gzip' });
    root = path.join(workDir, 'strata-root');
    const socket = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root, address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log') });
    containerd = await startContainerd(
      { strata: socket },
      { proxyContentStores: { 'strata-content': socket }, disabledPlugins: ['io.containerd.content.v1.content'], garbageCollection: 'on-deletion', parentDir: workDir },
    );
    client = connect(socket);
  });

  after(() => tearDown(workDir, [() => client?.close(), () => containerd?.stop(), () => strata?.stop(), () => registry?.stop()]));

  it('ctr images rm --sync leaves no snapshot and no blob in strata, and its root at its baseline size', async () => {
    const running = containerd as Containerd;
    const baseline = await rootUsage(root);
    await running.ctr(['images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', image.archivePath]);
    assert.ok((await listAll(client, 'snapshots')).length >= edgeCaseLayers.length, 'the import unpacked into strata');
    const stored = await listAll(client, 'content');
    for (const digest of [image.manifestDigest, ...image.layerDigests]) assert.ok(stored.includes(digest), `the import stored ${digest} in strata`);
    assert.ok((await rootUsage(root)).bytes > baseline.bytes);

    await running.ctr(['images', 'rm', '--sync', EDGE_CASE_IMAGE]);
    assert.deepEqual(await listAll(client, 'snapshots'), [], 'snapshots left in strata');
    assert.deepEqual(await listAll(client, 'content'), [], 'blobs left in strata');
    // Snapshot directories are deleted just after Remove returns, in the background.
    let usage = await rootUsage(root);
    for (let waited = 0; (usage.files !== baseline.files || usage.bytes !== baseline.bytes) && waited < 10_000; waited += 100) {
      await sleep(100);
      usage = await rootUsage(root);
    }
    assert.deepEqual(usage, baseline, "strata's root after the image went");
  });

  it('the same for an image pulled from a registry', async () => {
    const running = containerd as Containerd;
    const pulled = await buildSpecImage(workDir, [[{ op: 'file', path: 'etc/a', size: 50_000 }], [{ op: 'whiteout', path: 'etc/a' }, { op: 'file', path: 'b', size: 10 }]], ['gzip', 'zstd']);
    registry = await startRegistry();
    await registry.push(pulled.layoutDir, 'strata-e2e/pulled:v1');
    const reference = `${registry.host}/strata-e2e/pulled:v1`;
    await running.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'strata', reference]);
    assert.ok((await listAll(client, 'content')).includes(pulled.manifestDigest), 'the pull stored its manifest in strata');
    assert.equal((await listAll(client, 'snapshots')).length, 2, 'the pull unpacked two layers into strata');
    await running.ctr(['images', 'rm', '--sync', reference]);
    assert.deepEqual(await listAll(client, 'content'), []);
    assert.deepEqual(await listAll(client, 'snapshots'), []);
  });

  it('a containerd lease keeps its blobs and snapshots in strata through collections, until it is deleted', async () => {
    const running = containerd as Containerd;
    const collect = async () => {
      await running.ctr(['leases', 'create', '--id', 'gc-collect']);
      await running.ctr(['leases', 'rm', '--sync', 'gc-collect']);
    };
    await running.ctr(['leases', 'create', '--id', 'gc-held']);
    const leased = connect(running.address, { namespace: running.namespace, lease: 'gc-held' });
    try {
      const data = Buffer.from('held by a lease');
      const digest = await writeBlob(leased.content, 'gc-held-blob', data.length, sha256(data), [data]);
      await unaryCall(leased.snapshots, 'Prepare', { snapshotter: 'strata', key: 'gc-held-active', parent: '', labels: {} });
      await unaryCall(leased.snapshots, 'Commit', { snapshotter: 'strata', name: 'gc-held', key: 'gc-held-active', labels: {} });
      await collect();
      assert.ok((await listAll(client, 'content')).includes(digest), 'a leased blob went');
      assert.ok((await listAll(client, 'snapshots')).some((n) => n.endsWith('/gc-held')), 'a leased snapshot went');
      await running.ctr(['leases', 'rm', '--sync', 'gc-held']);
      assert.ok(!(await listAll(client, 'content')).includes(digest), 'the blob outlived its lease');
      assert.ok(!(await listAll(client, 'snapshots')).some((n) => n.endsWith('/gc-held')), 'the snapshot outlived its lease');
    } finally {
      leased.close();
    }
  });

  it("a collection while strata is down loses nothing still referenced, and the next one finishes the job", async () => {
    const running = containerd as Containerd;
    const kept = await buildOciArchive({ dir: workDir, imageName: 'strata-e2e/kept:v1', layers: edgeCaseLayers, compression: 'zstd' });
    const options = (strata as Strata).options;
    const retry = async (what: string, fn: () => Promise<unknown>) => {
      // containerd reconnects to a restarted proxy with a backoff of up to 3 s.
      for (let waited = 0; ; waited += 250) {
        try {
          return await fn();
        } catch (error) {
          if (waited > 10_000) throw new Error(`${what}: ${String(error)}`);
          await sleep(250);
        }
      }
    };
    for (const archive of [image, kept]) await running.ctr(['images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', archive.archivePath]);

    await (strata as Strata).stop();
    strata = undefined;
    // containerd drops the image from its own database at once; removing it from strata has to wait.
    await running.ctr(['images', 'rm', '--sync', EDGE_CASE_IMAGE]).catch(() => undefined);
    strata = await startStrata(options);
    await retry('containerd reaching the restarted strata', () => running.ctr(['content', 'get', kept.manifestDigest]));
    await retry('a collection', async () => {
      await running.ctr(['leases', 'create', '--id', 'gc-after-restart']);
      await running.ctr(['leases', 'rm', '--sync', 'gc-after-restart']);
    });

    const stored = await listAll(client, 'content');
    for (const digest of [kept.manifestDigest, ...kept.layerDigests]) assert.ok(stored.includes(digest), `the kept image lost ${digest}`);
    for (const digest of image.layerDigests) assert.ok(!stored.includes(digest), `the removed image's ${digest} is still in strata`);
    const snapshots = await listAll(client, 'snapshots');
    assert.deepEqual(snapshots.map((n) => n.slice(n.lastIndexOf('/') + 1)).sort(), [...kept.chainIds].sort(), "strata's snapshots are the kept image's chain");
    assert.match(await running.ctr(['images', 'check', '--snapshotter', 'strata']), /complete \(\d+\/\d+\) .* true/);

    await running.ctr(['images', 'rm', '--sync', 'strata-e2e/kept:v1']);
    assert.deepEqual(await listAll(client, 'content'), []);
    assert.deepEqual(await listAll(client, 'snapshots'), []);
  });

  it('a chain goes leaves first; a parent that still has a child is refused', async () => {
    const running = containerd as Containerd;
    const snapshots = (args: string[]) => running.ctr(['snapshots', '--snapshotter', 'strata', ...args]);
    await snapshots(['prepare', 'gc-a-active']);
    await snapshots(['commit', 'gc-a', 'gc-a-active']);
    await snapshots(['prepare', 'gc-b-active', 'gc-a']);
    await snapshots(['commit', 'gc-b', 'gc-b-active']);
    // containerd names a proxy's snapshots NAMESPACE/ID/KEY.
    const held = async () => (await listAll(client, 'snapshots')).map((name) => name.slice(name.lastIndexOf('/') + 1));
    await assert.rejects(snapshots(['rm', 'gc-a']), /child|precondition/i);
    assert.deepEqual(await held(), ['gc-a', 'gc-b']);
    await snapshots(['rm', 'gc-b']);
    await snapshots(['rm', 'gc-a']);
    // containerd removes a snapshot from its proxy when it collects garbage;
    // deleting a lease with --sync runs a collection and waits for it.
    await running.ctr(['leases', 'create', '--id', 'gc-now']);
    await running.ctr(['leases', 'rm', '--sync', 'gc-now']);
    assert.deepEqual(await held(), []);
  });
});
