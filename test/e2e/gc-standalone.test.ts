// `strata gc` against a running strata with no containerd in front
// (--gc-mode labels): a store built over gRPC with roots, references between
// blobs and snapshots, chains, gc.expire past and future, a blob held only by
// an active snapshot's label, orphans and an old ingest. The dry run lists
// exactly the set this test works out, and removes nothing; the collection
// then removes that set and nothing else. With the default mode, `strata gc`
// refuses with exit code 2.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { writeBlob } from '../../native-bench/content-writer';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import { listAll, sha256 } from '../support/strata-grpc';
import { runStrata, type CliRun } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

const HOUR = 3600_000;

interface Report {
  dryRun: boolean;
  removed: { kind: string; id: string; bytes: number }[];
  bytes: Record<string, number>;
}

function strataGc(args: string[]): Promise<CliRun> {
  return runStrata(['gc', ...args]);
}

describe('strata gc, standalone (gc.mode = labels)', { timeout: 120_000 }, () => {
  let workDir = '';
  let strata: Strata | undefined;
  let client: StrataClient;
  let socket = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-gc-'));
    socket = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root: path.join(workDir, 'root'), address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log'), gcMode: 'labels' });
    client = connect(socket);
  });

  after(() => tearDown(workDir, [() => client?.close(), () => strata?.stop()]));

  const blob = async (data: string, labels: Record<string, string> = {}) => {
    const digest = await writeBlob(client.content, `ingest-${data}`, data.length, sha256(data), [Buffer.from(data)]);
    if (Object.keys(labels).length > 0) await unaryCall(client.content, 'Update', { info: { digest, labels }, update_mask: { paths: [] } });
    return digest;
  };
  const committed = async (name: string, parent: string, labels: Record<string, string> = {}) => {
    await unaryCall(client.snapshots, 'Prepare', { snapshotter: 'strata', key: `${name}-active`, parent, labels: {} });
    await unaryCall(client.snapshots, 'Commit', { snapshotter: 'strata', name, key: `${name}-active`, labels });
  };
  const snapshotKeys = () => listAll(client, 'snapshots');
  const digests = () => listAll(client, 'content');

  it('removes exactly the unreachable set, which a dry run lists first', async () => {
    // An image as containerd would leave it: a root manifest referencing its config and layer, and the unpacked chain.
    await committed('layer-0', '');
    await committed('layer-1', 'layer-0', { 'containerd.io/gc.ref.content.l': sha256('layer') });
    const config = await blob('config');
    await blob('layer');
    await blob('manifest', {
      'containerd.io/gc.root': 'x',
      'containerd.io/gc.ref.content.config': config,
      'containerd.io/gc.ref.snapshot.strata': 'layer-1',
    });
    // Held: a lease-like gc.expire, and a blob only an active snapshot's label refers to.
    await blob('leased', { 'containerd.io/gc.expire': new Date(Date.now() + HOUR).toISOString() });
    const usedByContainer = await blob('rootfs config');
    await committed('base', '');
    await unaryCall(client.snapshots, 'Prepare', { snapshotter: 'strata', key: 'container', parent: 'base', labels: { 'containerd.io/gc.ref.content': usedByContainer } });
    // Garbage: an orphan chain, an orphan blob, an expired hold, and a ref to another snapshotter's snapshot.
    await committed('orphan-0', '');
    await committed('orphan-1', 'orphan-0');
    const orphan = await blob('orphan');
    const expired = await blob('expired', { 'containerd.io/gc.expire': new Date(Date.now() - HOUR).toISOString() });
    const elsewhere = await blob('elsewhere', { 'containerd.io/gc.ref.snapshot.overlayfs': 'base' });
    const expected = [
      ['blob', elsewhere],
      ['blob', expired],
      ['blob', orphan],
      ['snapshot', 'orphan-0'],
      ['snapshot', 'orphan-1'],
    ].sort((a, b) => `${a}`.localeCompare(`${b}`));

    const before = { snapshots: await snapshotKeys(), blobs: await digests() };
    const dry = await strataGc(['--address', socket, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const dryReport = JSON.parse(dry.stdout) as Report;
    const ids = (r: Report) => r.removed.map((x) => [x.kind, x.id]).sort((a, b) => `${a}`.localeCompare(`${b}`));
    assert.equal(dryReport.dryRun, true);
    assert.deepEqual(ids(dryReport), expected);
    assert.equal(dryReport.bytes.blob, 'orphan'.length + 'expired'.length + 'elsewhere'.length);
    // Leaves first: orphan-1 before its parent.
    assert.ok(dryReport.removed.findIndex((x) => x.id === 'orphan-1') < dryReport.removed.findIndex((x) => x.id === 'orphan-0'));
    assert.deepEqual({ snapshots: await snapshotKeys(), blobs: await digests() }, before, 'the dry run removed something');

    const run = await strataGc(['--address', socket, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(ids(JSON.parse(run.stdout) as Report), expected);
    assert.deepEqual(await snapshotKeys(), before.snapshots.filter((k) => !k.startsWith('orphan-')));
    assert.deepEqual(await digests(), before.blobs.filter((d) => ![orphan, expired, elsewhere].includes(d)));

    const again = await strataGc(['--address', socket]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /removed 0 snapshot\(s\), 0 B\nremoved 0 blob\(s\), 0 B\nremoved 0 ingest\(s\), 0 B/);
  });

  it('with [gc] interval set, collects on its own', async () => {
    const config = path.join(workDir, 'scheduled.toml');
    await fs.promises.writeFile(config, '[gc]\nmode = "labels"\ninterval = "200ms"\n');
    const address = path.join(workDir, 'scheduled.sock');
    const scheduled = await startStrata({ root: path.join(workDir, 'scheduled-root'), address, backend: 'native', logFile: path.join(workDir, 'scheduled.log'), configFile: config });
    const own = connect(address);
    try {
      // Labelled as it is committed: the collector may run at any moment.
      const kept = await writeBlob(own.content, 'kept', 4, sha256('kept'), [Buffer.from('kept')], { 'containerd.io/gc.root': 'x' });
      const dropped = await writeBlob(own.content, 'dropped', 7, sha256('dropped'), [Buffer.from('dropped')]);
      const exists = (digest: string) => unaryCall(own.content, 'Info', { digest }).then(() => true, () => false);
      for (let waited = 0; (await exists(dropped)) && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await exists(dropped), false, 'the scheduled collector left an unreferenced blob');
      assert.equal(await exists(kept), true, 'the scheduled collector removed a root');
    } finally {
      own.close();
      await scheduled.stop();
    }
  });

  it('in the default mode it refuses, with exit code 2; with no server, exit code 1', async () => {
    const plain = await startStrata({ root: path.join(workDir, 'plain-root'), address: path.join(workDir, 'plain.sock'), backend: 'native', logFile: path.join(workDir, 'plain.log') });
    try {
      const refused = await strataGc(['--address', path.join(workDir, 'plain.sock')]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /^strata: .*gc\.mode is containerd: containerd decides what strata deletes/);
    } finally {
      await plain.stop();
    }
    const missing = await strataGc(['--address', path.join(workDir, 'plain.sock')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.split('\n').filter((l) => l !== '').length, 1);
  });
});
