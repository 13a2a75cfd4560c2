// The `strata serve` contract operators rely on, and the guards around it:
// a stale socket is replaced, a live one or a root in use is refused, and a
// failing call never takes the server down.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { STRATA_CLI } from '../../native-bench/harness/strata';
import { grpcCode, startStrataServer, writableDirOf, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';

function serveOnce(root: string, address: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [STRATA_CLI, 'serve', '--root', root, '--address', address], {
    timeout: 20_000,
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
}

/** A socket file nobody listens on, as a server killed with SIGKILL leaves behind. */
async function staleSocket(address: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(address)})`]);
  while (!fs.existsSync(address)) await new Promise((resolve) => setTimeout(resolve, 20));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('strata serve', { timeout: 120_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-serve-'));
  });
  const cleanups: (() => Promise<void>)[] = [];
  after(() => tearDown(workDir, [...cleanups, () => server?.stop()]));

  it('replaces a stale socket at start', async () => {
    await staleSocket(path.join(workDir, 'main.sock'));
    assert.ok(fs.lstatSync(path.join(workDir, 'main.sock')).isSocket());
    server = await startStrataServer(workDir, 'main', 'overlayfs');
    await unaryCall(server.client.snapshots, 'Stat', { key: 'nothing' }).catch((err) => assert.equal(grpcCode(err), 5));
  });

  it('refuses a socket another server listens on, and a root another server uses', () => {
    const live = serveOnce(path.join(workDir, 'other-root'), (server as StrataServer).address);
    assert.notEqual(live.status, 0);
    assert.match(live.stderr, /in use by a running server/);
    const shared = serveOnce((server as StrataServer).root, path.join(workDir, 'other.sock'));
    assert.notEqual(shared.status, 0);
    assert.match(shared.stderr, /in use by another strata/);
    assert.equal(fs.existsSync(path.join(workDir, 'other.sock')), false);
  });

  it('answers Mounts of a committed snapshot with FailedPrecondition, as containerd', async () => {
    const s = server as StrataServer;
    await s.snapshots.prepare('base-active');
    await s.snapshots.commit('base', 'base-active');
    await assert.rejects(s.snapshots.mounts('base'), (err) => grpcCode(err) === 9);
  });

  it('fails a Diff whose upper changes while it is read, and keeps serving', async () => {
    // native snapshots are read in place, so a mount inside one is seen by Diff.
    const s = await startStrataServer(workDir, 'native', 'native');
    cleanups.push(() => s.stop());
    await s.snapshots.prepare('base-active');
    await s.snapshots.commit('base', 'base-active');
    const lower = await s.snapshots.view('lower-view', 'base');
    const upper = await s.snapshots.prepare('changing', 'base');
    const file = path.join(writableDirOf(upper), 'proc-version');
    fs.writeFileSync(file, '');
    // /proc files report size 0 but read non-empty: the tar entry cannot match.
    execFileSync('mount', ['--bind', '/proc/version', file]);
    try {
      await assert.rejects(
        unaryCall(s.client.diff, 'Diff', { left: lower, right: upper, media_type: 'application/vnd.oci.image.layer.v1.tar', ref: 'changing' }),
        (err) => grpcCode(err) !== undefined,
      );
    } finally {
      execFileSync('umount', [file]);
    }
    const statuses = await unaryCall<object, { statuses: { ref: string }[] }>(s.client.content, 'ListStatuses', { filters: [] });
    assert.deepEqual(statuses.statuses.map((st) => st.ref), [], 'the failed Diff left its ingest behind');
    const again = await unaryCall<object, { diff: { digest: string } }>(s.client.diff, 'Diff', {
      left: lower,
      right: await s.snapshots.view('base-view', 'base'),
      media_type: 'application/vnd.oci.image.layer.v1.tar',
    });
    assert.match(again.diff.digest, /^sha256:/);
  });
});
