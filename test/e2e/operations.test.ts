// What an operator runs and watches: the shipped systemd unit's ExecStart
// under a notify socket, Prometheus metrics scraped over HTTP as calls
// happen, /healthz, the gRPC health service, the log (one line per failed
// call, every call at debug, SIGHUP reopening the file), and config errors.
import * as assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { STRATA_CLI } from '../../native-bench/harness/strata';
import { connect, unaryCall } from '../../src/client/connect';
import { packageRoot } from '../../src/package-root';
import { applyLayer, grpcCode, readBlob, sha256, startApply, startStrataServer, writableDirOf, writeBlob, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import { samples } from '../support/prometheus';
import { freePort } from '../../native-bench/harness/registry';
import { mountsUnder } from '../../native-bench/harness/mounts';

const execFileAsync = promisify(execFile);

function healthClient(socket: string): grpc.Client {
  const definition = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: typeof grpc.Client } } };
  };
  return new definition.grpc.health.v1.Health(`unix:${socket}`, grpc.credentials.createInsecure());
}

function logLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('operating strata: systemd unit, metrics, health, logs', { timeout: 120_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  let metricsUrl = '';
  let logFile = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-operations-'));
    logFile = path.join(workDir, 'logs', 'strata.log');
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    server = await startStrataServer(workDir, 'ops', 'overlayfs', `[metrics]\naddress = "127.0.0.1:${port}"\n[log]\nlevel = "debug"\nfile = ${JSON.stringify(logFile)}\n`);
  });

  after(() => tearDown(workDir, [() => server?.stop()]));

  const scrape = async () => {
    const response = await fetch(`${metricsUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return samples(await response.text());
  };

  it('counts calls by service, method and code, times them, and counts bytes and what the store holds', async () => {
    const s = server as StrataServer;
    const before = await scrape();
    const count = (m: Map<string, number>, name: string) => m.get(name) ?? 0;
    const content = 'containerd.services.content.v1.Content';
    const snapshots = 'containerd.services.snapshots.v1.Snapshots';

    const blob = Buffer.alloc(300_000, 7);
    const digest = await writeBlob(s.client.content, blob);
    assert.deepEqual(await readBlob(s.client.content, digest), blob);
    await assert.rejects(unaryCall(s.client.snapshots, 'Stat', { snapshotter: 'strata', key: 'no-such-snapshot' }), (err) => grpcCode(err) === grpc.status.NOT_FOUND);
    // A layer, applied: a tar of one file.
    const source = path.join(workDir, 'layer-source');
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'hello'), 'applied through Diff\n');
    const tar = (await execFileAsync('tar', ['-C', source, '-cf', '-', 'hello'], { encoding: 'buffer' })).stdout;
    const layerDigest = await writeBlob(s.client.content, tar);
    const mounts = await s.snapshots.prepare('metrics-active');
    const applied = await applyLayer(s.client.diff, { media_type: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: tar.length }, mounts);
    assert.equal(fs.readFileSync(path.join(writableDirOf(mounts), 'hello'), 'utf8'), 'applied through Diff\n');
    await s.snapshots.commit('metrics-layer', 'metrics-active');

    const after = await scrape();
    const moved = (name: string) => count(after, name) - count(before, name);
    assert.equal(moved(`strata_grpc_requests_total{service="${snapshots}",method="Stat",code="NotFound"}`), 1);
    assert.equal(moved(`strata_grpc_requests_total{service="${snapshots}",method="Prepare",code="OK"}`), 1);
    assert.equal(moved(`strata_grpc_requests_total{service="${content}",method="Write",code="OK"}`), 2);
    assert.equal(moved(`strata_grpc_requests_total{service="containerd.services.diff.v1.Diff",method="Apply",code="OK"}`), 1);
    assert.equal(moved(`strata_grpc_request_duration_seconds_count{service="${snapshots}",method="Commit"}`), 1);
    assert.equal(moved('strata_content_ingested_bytes_total'), blob.length + tar.length);
    assert.equal(moved('strata_content_read_bytes_total'), blob.length);
    assert.equal(moved('strata_diff_applied_bytes_total'), applied.size);
    assert.equal(count(after, 'strata_blobs'), 2);
    assert.equal(count(after, 'strata_snapshots{kind="committed"}'), 1);
    assert.equal(count(after, 'strata_disk_usage_bytes{kind="content"}'), blob.length + tar.length);
    assert.equal(count(after, 'strata_diff_applies_in_flight'), 0);
    assert.equal(count(after, 'strata_content_writes_in_flight'), 0);
    assert.ok(count(after, 'strata_process_resident_memory_bytes') > 0);
    assert.equal(sha256(blob), digest);
  });

  it('logs each failed call once, with its method, code, key and duration, and every call at debug', () => {
    const lines = logLines(logFile);
    const failed = lines.filter((l) => l.msg === 'rpc failed' && l.key === 'no-such-snapshot');
    assert.equal(failed.length, 1, JSON.stringify(failed));
    assert.deepEqual([failed[0].method, failed[0].code, typeof failed[0].ms], ['/containerd.services.snapshots.v1.Snapshots/Stat', 'NotFound', 'number']);
    const commits = lines.filter((l) => l.msg === 'rpc' && l.method === '/containerd.services.snapshots.v1.Snapshots/Commit');
    assert.equal(commits.length, 1);
    assert.equal(commits[0].key, 'metrics-active');
  });

  it('/healthz is 200 with its checks, and 503 while the root is gone', async () => {
    const s = server as StrataServer;
    const ok = await fetch(`${metricsUrl}/healthz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ok', checks: { database: 'ok', root: 'ok' } });
    const away = `${s.root}-away`;
    fs.renameSync(s.root, away);
    try {
      const gone = await fetch(`${metricsUrl}/healthz`);
      assert.equal(gone.status, 503);
      const body = (await gone.json()) as { status: string; checks: Record<string, string> };
      assert.equal(body.status, 'unhealthy');
      assert.match(body.checks.root, /ENOENT/);
    } finally {
      fs.renameSync(away, s.root);
    }
    assert.equal((await fetch(`${metricsUrl}/nothing`)).status, 404);
  });

  it('serves grpc.health.v1 on the plugin socket', async () => {
    const client = healthClient((server as StrataServer).address);
    try {
      for (const service of ['', 'containerd.services.snapshots.v1.Snapshots', 'containerd.services.content.v1.Content', 'containerd.services.diff.v1.Diff']) {
        assert.deepEqual(await unaryCall(client, 'Check', { service }), { status: 'SERVING' }, service);
      }
      await assert.rejects(unaryCall(client, 'Check', { service: 'no.such.Service' }), (err) => grpcCode(err) === grpc.status.NOT_FOUND);
    } finally {
      client.close();
    }
  });

  it('reopens its log file on SIGHUP, after logrotate moved it', async () => {
    const s = server as StrataServer;
    const rotated = `${logFile}.1`;
    fs.renameSync(logFile, rotated);
    process.kill(s.strata.pid, 'SIGHUP');
    for (let i = 0; i < 100 && !fs.existsSync(logFile); i++) await sleep(20);
    await assert.rejects(unaryCall(s.client.snapshots, 'Stat', { snapshotter: 'strata', key: 'after-rotation' }));
    await sleep(50);
    assert.ok(logLines(logFile).some((l) => l.key === 'after-rotation'), 'the new file has the new lines');
    assert.ok(!logLines(rotated).some((l) => l.key === 'after-rotation'), 'the rotated file does not');
  });

  it("runs the shipped unit's ExecStart under a notify socket: READY=1 once the socket accepts, STOPPING=1 on SIGTERM", async (t) => {
    const unit = fs.readFileSync(path.join(packageRoot(), 'config/strata.service'), 'utf8');
    const directive = (name: string) => unit.split('\n').find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1);
    assert.deepEqual(
      ['Type', 'NotifyAccess', 'KillMode', 'Restart'].map(directive),
      ['notify', 'main', 'mixed', 'on-failure'],
    );
    assert.match(directive('LimitNOFILE') ?? '', /^\d+$/);
    const runDir = path.join(workDir, 'run-strata');
    const config = path.join(workDir, 'unit-config.toml');
    // A long grace: nothing connected may make shutdown wait for it.
    fs.writeFileSync(config, `root = ${JSON.stringify(path.join(workDir, 'unit-root'))}\naddress = ${JSON.stringify(path.join(runDir, 'strata.sock'))}\nshutdown_grace = "60s"\n`);
    // The unit's own lines, with the test's paths for /run/strata and /etc/strata/config.toml.
    const local = (line: string) => line.replaceAll('/run/strata', runDir).replaceAll('/etc/strata/config.toml', config).split(' ');
    const [mkdir, ...mkdirArgs] = local(directive('ExecStartPre') as string);
    assert.equal(spawnSync(mkdir, mkdirArgs).status, 0);
    const [command, ...args] = local(directive('ExecStart') as string);
    assert.equal(command, 'strata');

    const notifySocket = path.join(workDir, 'notify.sock');
    const listener = spawn('/usr/bin/python3', [path.join(packageRoot(), 'test/support/notify-listener.py'), notifySocket], { stdio: ['ignore', 'pipe', 'inherit'] });
    const messages: { at: number; message: string }[] = [];
    let buffered = '';
    listener.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const entry = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (entry.message !== undefined) messages.push(entry);
      }
    });
    try {
      while (!fs.existsSync(notifySocket)) await sleep(10);
      const started = Date.now();
      const daemon = spawn(process.execPath, [STRATA_CLI, ...args], { env: { ...process.env, NOTIFY_SOCKET: notifySocket }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
      while (!messages.some((m) => m.message.includes('READY=1'))) {
        assert.equal(daemon.exitCode, null, stderr);
        await sleep(5);
      }
      const readyMs = Math.round(messages[0].at * 1000 - started);
      assert.match(messages[0].message, new RegExp(`^READY=1\nMAINPID=${daemon.pid}\n`));
      // Ready means accepting: a call right away is answered.
      const socket = path.join(runDir, 'strata.sock');
      const client = connect(socket);
      await unaryCall(client.snapshots, 'Stat', { snapshotter: 'strata', key: 'x' }).catch((err) => assert.equal(grpcCode(err), grpc.status.NOT_FOUND));
      client.close();
      // A health watcher is told NOT_SERVING and its stream ends, rather than holding shutdown for its grace.
      const health = healthClient(socket);
      const watched: string[] = [];
      const watch = (health as unknown as { Watch(request: object): grpc.ClientReadableStream<{ status: string }> }).Watch({ service: '' });
      const watchEnded = new Promise<number>((resolve) => {
        watch.on('data', (message: { status: string }) => watched.push(message.status));
        watch.on('status', (status: grpc.StatusObject) => resolve(status.code));
        watch.on('error', () => undefined);
      });
      while (watched.length === 0) await sleep(5);
      const stopping = Date.now();
      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal(await watchEnded, grpc.status.OK);
      assert.deepEqual(watched, ['SERVING', 'NOT_SERVING']);
      health.close();
      const stopMs = Date.now() - stopping;
      assert.ok(messages.some((m) => m.message.startsWith('STOPPING=1')), JSON.stringify(messages));
      assert.equal(fs.existsSync(socket), false);
      t.diagnostic(`READY=1 ${readyMs} ms after the unit's ExecStart; exit ${stopMs} ms after SIGTERM`);
    } finally {
      listener.kill();
    }
  });

  it('refuses a bad config with exit code 2, naming the file, line and key, before touching anything', () => {
    const bad = path.join(workDir, 'bad.toml');
    fs.writeFileSync(bad, '# strata\nroot = "/tmp/never"\n[diff]\nsync_fs = "sometimes"\n');
    for (const args of [['config', 'check', bad], ['serve', '--config', bad]]) {
      const result = spawnSync(process.execPath, [STRATA_CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr, `strata: config ${bad}:4: diff.sync_fs must be true or false, not "sometimes"\n`);
    }
    assert.equal(fs.existsSync('/tmp/never'), false);
    const good = spawnSync(process.execPath, [STRATA_CLI, 'config', 'check', '--json', path.join(packageRoot(), 'config/strata.toml')], { encoding: 'utf8' });
    assert.equal(good.status, 0, good.stderr);
    assert.equal(JSON.parse(good.stdout).config['gc.mode'], 'containerd');
    const printed = spawnSync(process.execPath, [STRATA_CLI, 'config', 'default'], { encoding: 'utf8' });
    assert.equal(printed.stdout, fs.readFileSync(path.join(packageRoot(), 'config/strata.toml'), 'utf8'));
  });

  it("counts strata's own collections and the bytes they free (gc.mode = labels)", async () => {
    const port = await freePort();
    const collecting = await startStrataServer(workDir, 'gc-metrics', 'native', `[gc]\nmode = "labels"\n[metrics]\naddress = "127.0.0.1:${port}"\n`);
    try {
      const unreferenced = Buffer.alloc(5000, 3);
      await writeBlob(collecting.client.content, unreferenced);
      await writeBlob(collecting.client.content, Buffer.from('kept'), { labels: { 'containerd.io/gc.root': 'x' } });
      await execFileAsync(process.execPath, [STRATA_CLI, 'gc', '--address', collecting.address, '--dry-run']);
      await execFileAsync(process.execPath, [STRATA_CLI, 'gc', '--address', collecting.address]);
      const scraped = samples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      assert.equal(scraped.get('strata_gc_runs_total'), 1, 'a dry run is not a collection');
      assert.equal(scraped.get('strata_gc_freed_bytes_total'), unreferenced.length);
      assert.equal(scraped.get('strata_blobs'), 1);
    } finally {
      await collecting.stop();
    }
  });

  describe('SIGTERM with an Apply in flight', () => {
    let layer: { digest: string; size: number };
    let layerFile = '';

    before(async () => {
      // 600 MB of zeros: quick to compress, long enough to apply that SIGTERM lands mid-way.
      layerFile = path.join(workDir, 'zeros.tar.gz');
      await execFileAsync('sh', ['-c', `cd ${workDir} && head -c 600M /dev/zero > zeros && tar -cf - zeros | gzip -1 > ${layerFile} && rm zeros`]);
      const data = fs.readFileSync(layerFile);
      layer = { digest: sha256(data), size: data.length };
    });

    async function applyThenTerm(name: string, config: string) {
      const s = await startStrataServer(workDir, name, 'overlayfs', config);
      await writeBlob(s.client.content, fs.readFileSync(layerFile));
      const mounts = await s.snapshots.prepare('in-flight');
      const apply = startApply(s.client.diff, { media_type: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }, mounts);
      const outcome = apply.result.then(
        () => 'applied',
        (err) => grpcCode(err),
      );
      await sleep(150);
      const stopping = Date.now();
      await s.stop();
      return { s, outcome: await outcome, stopMs: Date.now() - stopping };
    }

    it('lets the call finish within shutdown_grace, then exits', async () => {
      const { s, outcome } = await applyThenTerm('grace', 'shutdown_grace = "30s"\n');
      assert.equal(outcome, 'applied');
      assert.deepEqual(await mountsUnder(s.root), []);
    });

    it('past shutdown_grace cancels it safely: no mounts left, and the store restarts consistent', async (t) => {
      const { s, outcome, stopMs } = await applyThenTerm('no-grace', 'shutdown_grace = "0s"\n');
      t.diagnostic(`exit ${stopMs} ms after SIGTERM, the Apply ended with code ${outcome}`);
      assert.notEqual(outcome, 'applied');
      assert.deepEqual(await mountsUnder(s.root), []);
      const again = await startStrataServer(workDir, 'no-grace', 'overlayfs', 'shutdown_grace = "0s"\n');
      try {
        const mounts = await again.snapshots.mounts('in-flight');
        const applied = await applyLayer(again.client.diff, { media_type: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }, mounts);
        assert.equal(applied.size > 600 * 2 ** 20, true);
        assert.equal(fs.statSync(path.join(writableDirOf(mounts), 'zeros')).size, 600 * 2 ** 20);
        await again.snapshots.commit('after-restart', 'in-flight');
      } finally {
        await again.stop();
      }
    });
  });
});

