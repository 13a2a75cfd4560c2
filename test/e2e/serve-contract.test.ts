// The `strata serve` contract operators rely on, and the guards around it:
// a stale socket is replaced, a live one or a root in use is refused, and a
// failing call never takes the server down.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { startServer, stopServer, waitForSocket } from '../../native-bench/harness/processes';
import { staleSocket } from '../../src/testing/stale-socket';
import { STRATA_CLI } from '../../native-bench/harness/strata';
import { LOG_LEVELS } from '../../src/config/config';
import { grpcCode, startStrataServer, writableDirOf, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';

describe('strata serve', { timeout: 120_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-serve-'));
  });
  /**
   * `strata serve` expected to fail at start, in the work dir (where a
   * relative path would lead); SIGKILLed if it has not within 10 s (a server
   * spinning on its root once ignored the first SIGTERM).
   */
  function serveOnce(root: string, address: string, ...more: string[]): { status: number | null; stderr: string } {
    const result = spawnSync(process.execPath, [STRATA_CLI, 'serve', '--root', root, '--address', address, ...more], {
      cwd: workDir,
      timeout: 10_000,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
    });
    return { status: result.status, stderr: result.stderr };
  }

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

  it('fails at once, in one line, on a root it cannot make or use', () => {
    const file = path.join(workDir, 'a-file');
    fs.writeFileSync(file, '');
    const readOnly = path.join(workDir, 'read-only');
    fs.mkdirSync(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro', 'tmpfs', readOnly]);
    const frozen = path.join(workDir, 'frozen');
    fs.mkdirSync(frozen);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', frozen]);
    fs.mkdirSync(path.join(frozen, 'root'));
    execFileSync('mount', ['-o', 'remount,ro', frozen]);
    const address = path.join(workDir, 'unusable.sock');
    for (const [root, why] of [
      // procfs answers ENOENT to any mkdir: Node's recursive mkdir tried again for ever.
      ['/proc/strata-e2e-root', 'mkdir /proc/strata-e2e-root: no such file or directory'],
      [path.join(file, 'root'), `mkdir ${file}/root: not a directory`],
      [file, `mkdir ${file}: file already exists`],
      [path.join(readOnly, 'root'), `mkdir ${readOnly}/root: read-only file system`],
      [path.join(frozen, 'root'), `open ${frozen}/root/lock: read-only file system`],
    ]) {
      const result = serveOnce(root, address);
      assert.deepEqual(result, { status: 1, stderr: `strata: cannot use ${root} as root: ${why}\n` });
      assert.equal(fs.existsSync(address), false);
    }
  });

  it('leaves a directory that cannot be a root as it was: /proc keeps its mode', () => {
    // A /proc of its own, in a mount and pid namespace of its own: root may chmod procfs. With
    // --kill-child, the SIGKILL that ends unshare ends the namespace, and strata in it.
    const result = spawnSync('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', '"$0" "$1" serve --root /proc --address "$2"; stat -c %a /proc', process.execPath, STRATA_CLI, path.join(workDir, 'proc.sock')], {
      encoding: 'utf8',
      timeout: 10_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(result.stdout, '555\n', 'the mode of /proc');
    assert.equal(result.stderr, 'strata: cannot use /proc as root: open /proc/lock: no such file or directory\n');
  });

  it('fails at once, in one line, on a socket or log directory it cannot make', () => {
    const root = path.join(workDir, 'unmade-dirs-root');
    const result = serveOnce(root, '/proc/strata-e2e/strata.sock');
    assert.deepEqual(result, { status: 1, stderr: 'strata: cannot listen on /proc/strata-e2e/strata.sock: mkdir /proc/strata-e2e: no such file or directory\n' });
    const config = path.join(workDir, 'unmade-log.toml');
    fs.writeFileSync(config, '[log]\nfile = "/proc/strata-e2e/strata.log"\n');
    const logged = serveOnce(root, path.join(workDir, 'unmade-log.sock'), '--config', config);
    assert.deepEqual(logged, { status: 1, stderr: 'strata: cannot open log.file /proc/strata-e2e/strata.log: mkdir /proc/strata-e2e: no such file or directory\n' });
  });

  it('removes its socket when a start fails after making it, whatever failed', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const inUse = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
    const plainFile = path.join(workDir, 'not-a-socket');
    fs.writeFileSync(plainFile, 'kept');
    const root = path.join(workDir, 'failing-root');
    for (const [config, why] of [
      [`[metrics]\naddress = "${inUse}"\n`, `listen EADDRINUSE: address already in use ${inUse}`],
      [`[mirror]\naddress = "${inUse}"\n`, `listen EADDRINUSE: address already in use ${inUse}`],
      // Once removed with rm -f, whatever it was.
      [`[metrics]\naddress = "${plainFile}"\n`, `${plainFile} exists and is not a socket; refusing to replace it`],
    ]) {
      const file = path.join(workDir, 'failing.toml');
      fs.writeFileSync(file, config);
      const address = path.join(workDir, 'failing.sock');
      assert.deepEqual(serveOnce(root, address, '--config', file), { status: 1, stderr: `strata: ${why}\n` }, config);
      assert.deepEqual(fs.readdirSync(workDir).filter((name) => name.includes('failing.sock')), [], config);
    }
    assert.equal(fs.readFileSync(plainFile, 'utf8'), 'kept');
  });

  it('refuses what config check refuses, and a bad --root or --address, with exit 2 before touching anything', () => {
    const root = path.join(workDir, 'never-root');
    const address = path.join(workDir, 'never.sock');
    const configs = [
      ['# metrics\n[metrics]\naddress = "127.0.0.1:99999"\n', '3: metrics.address must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most 107 bytes), not "127.0.0.1:99999"'],
      ['root = "var/lib/strata"\n', '1: root must be an absolute path other than /, not "var/lib/strata"'],
      ['[gc]\nmode = "labels"\ninterval = "30d"\n', '3: gc.interval must be a duration such as "30m" or "24h", at most "24d", not "30d"'],
    ];
    configs.forEach(([text, where], index) => {
      const file = path.join(workDir, `refused-${index}.toml`);
      fs.writeFileSync(file, text);
      const refused = { status: 2, stderr: `strata: config ${file}:${where}\n` };
      const checked = spawnSync(process.execPath, [STRATA_CLI, 'config', 'check', file], { encoding: 'utf8', timeout: 10_000 });
      assert.deepEqual({ status: checked.status, stderr: checked.stderr }, refused);
      assert.deepEqual(serveOnce(root, address, '--config', file), refused);
    });
    assert.deepEqual(serveOnce('var/lib/strata', address), { status: 2, stderr: 'strata: --root must be an absolute path other than /, not "var/lib/strata"\n' });
    assert.deepEqual(serveOnce(root, 'never.sock'), { status: 2, stderr: 'strata: --address must be an absolute unix socket path of at most 98 bytes, not "never.sock"\n' });
    assert.deepEqual(fs.readdirSync(workDir).filter((name) => name.startsWith('never') || name === 'var'), []);
  });

  it('--log-level takes every level log.level does', async () => {
    const help = spawnSync(process.execPath, [STRATA_CLI, 'serve', '--help'], { encoding: 'utf8' });
    // Unwrapped: --help fits its lines to 80 columns.
    const options = help.stdout.replace(/\s+/g, ' ');
    assert.ok(options.includes(`--log-level <level> log level (choices: ${LOG_LEVELS.map((level) => `"${level}"`).join(', ')})`), help.stdout);
    const logFile = path.join(workDir, 'silent.log');
    const address = path.join(workDir, 'silent.sock');
    const silent = startServer(process.execPath, [STRATA_CLI, 'serve', '--root', path.join(workDir, 'silent-root'), '--address', address, '--log-level', 'silent'], logFile);
    await waitForSocket(silent, address, 20_000);
    assert.deepEqual(await stopServer(silent, 'SIGTERM', 15_000), { code: 0, signal: null });
    assert.equal(fs.readFileSync(logFile, 'utf8'), '');
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
