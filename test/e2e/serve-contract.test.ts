// The `strata serve` contract operators rely on, and the guards around it:
// a stale socket is replaced, a live one or a root in use is refused, and a
// failing call never takes the server down.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { staleSocket } from '../../src/testing/stale-socket';
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

  it('makes its socket 0660, owned by root, and its root 0700', () => {
    const s = server as StrataServer;
    const socket = fs.statSync(s.address);
    assert.deepEqual({ mode: socket.mode & 0o7777, uid: socket.uid, gid: socket.gid }, { mode: 0o660, uid: 0, gid: 0 });
    assert.equal(fs.statSync(s.root).mode & 0o7777, 0o700);
  });

  it("takes the socket's mode and group from [socket], and tightens a root that was open", async () => {
    const root = path.join(workDir, 'open-root');
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    const other = await startStrataServer(workDir, 'open', 'native', '[socket]\nmode = "0600"\ngid = 4\n');
    cleanups.push(() => other.stop());
    const socket = fs.statSync(other.address);
    assert.deepEqual({ mode: socket.mode & 0o7777, gid: socket.gid }, { mode: 0o600, gid: 4 });
    assert.equal(fs.statSync(other.root).mode & 0o7777, 0o700);
    const badConfig = path.join(workDir, 'bad.toml');
    fs.writeFileSync(badConfig, '[socket]\nmode = "0666"\n');
    const bad = spawnSync(process.execPath, [STRATA_CLI, 'serve', '--root', root, '--address', path.join(workDir, 'bad.sock'), '--config', badConfig], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /socket\.mode must be an octal mode with no bits for others/);
  });

  it('refuses a root whose fixed entries are symbolic links', () => {
    const root = path.join(workDir, 'linked-root');
    const elsewhere = path.join(workDir, 'elsewhere');
    fs.mkdirSync(root);
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(root, 'snapshots'));
    const result = serveOnce(root, path.join(workDir, 'linked.sock'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /snapshots is a symbolic link; strata follows no link inside its root/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.deepEqual(fs.readdirSync(elsewhere), []);
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
