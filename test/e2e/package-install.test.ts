// Packaging as an operator installs it: `npm pack` of this checkout, then
// `npm install -g` of the tarball into a temporary prefix (the native addon
// builds on install), and the installed `strata` bin serves. The shipped
// unit, pointed at that bin, passes `systemd-analyze verify`.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startServer, stopServer, waitForSocket } from '../../native-bench/harness/processes';
import { connect, unaryCall } from '../../src/client/connect';
import { packageRoot } from '../../src/package-root';
import { grpcCode } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';

const execFileAsync = promisify(execFile);

/** What install scripts npm 11 must be allowed to run: strata's addon and its native dependencies. */
const ALLOW_SCRIPTS = 'strata,better-sqlite3,protobufjs,zstd-napi';

/**
 * The shipped paths (under package/ in the tarball): the build, the wire
 * format, the config, what the addon and the benchmark's Go reference build
 * from, the READMEs (npm always packs a README it finds), the reference in
 * docs/, the licence and the changelog.
 */
const SHIPPED = [
  /^dist\//,
  /^proto\//,
  /^config\//,
  /^docs\/[\w-]+\.md$/,
  /^README\.md$/,
  /^native-bench\/README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^package\.json$/,
  /^binding\.gyp$/,
  /^src\/native\/[\w-]+\.[ch]$/,
  /^native-bench\/go\//,
];

describe('npm pack, npm install -g, and the installed bin', { timeout: 600_000 }, () => {
  let workDir = '';
  let tarball = '';
  let prefix = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-package-'));
    const { stdout } = await execFileAsync('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: packageRoot(), maxBuffer: 64 << 20 });
    tarball = path.join(workDir, (JSON.parse(stdout) as { filename: string }[])[0].filename);
    prefix = path.join(workDir, 'prefix');
  });

  after(() => tearDown(workDir, []));

  it('ships only the build, the proto files, config/, the README and the addon sources', async () => {
    const { stdout } = await execFileAsync('tar', ['-tzf', tarball], { maxBuffer: 16 << 20 });
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    assert.deepEqual(files.filter((f) => !SHIPPED.some((allowed) => allowed.test(f))), []);
    assert.deepEqual(files.filter((f) => /\.test\.js$|^dist\/src\/testing\//.test(f)), [], 'no tests');
    for (const needed of ['dist/cli.js', 'dist/src/commands/serve.js', 'config/strata.toml', 'config/strata.service', 'config/containerd-1.6.toml', 'config/containerd-1.7.toml', 'config/containerd-2.toml', 'proto/containerd/services/snapshots/v1/snapshots.proto', 'LICENSE', 'CHANGELOG.md', 'docs/operating.md', 'docs/troubleshooting.md']) {
      assert.ok(files.includes(needed), needed);
    }
  });

  it('installs with npm install -g into a fresh prefix, building the addon, and its strata bin serves', async () => {
    await execFileAsync('npm', ['install', '-g', '--prefix', prefix, `--allow-scripts=${ALLOW_SCRIPTS}`, '--no-audit', '--no-fund', tarball], {
      cwd: workDir,
      maxBuffer: 64 << 20,
      // Only node's own directory and the system's: nothing from this checkout.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
    });
    const installed = path.join(prefix, 'lib/node_modules/strata');
    assert.ok(fs.existsSync(path.join(installed, 'build/Release/strata_syscalls.node')), 'the addon was built on install');
    const bin = path.join(prefix, 'bin/strata');
    const help = await execFileAsync(bin, ['--help']);
    assert.match(help.stdout, /serve/);
    const version = await execFileAsync(bin, ['--version']);
    assert.equal(version.stdout.trim(), (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);

    const address = path.join(workDir, 'installed.sock');
    const server = startServer(bin, ['serve', '--root', path.join(workDir, 'installed-root'), '--address', address], path.join(workDir, 'installed.log'));
    try {
      await waitForSocket(server, address, 20_000);
      const client = connect(address);
      await assert.rejects(unaryCall(client.snapshots, 'Stat', { snapshotter: 'strata', key: 'none' }), (err) => grpcCode(err) === 5);
      client.close();
    } finally {
      assert.deepEqual(await stopServer(server, 'SIGTERM', 15_000), { code: 0, signal: null }, server.logTail());
    }

    const unit = path.join(workDir, 'strata.service');
    const shipped = fs.readFileSync(path.join(installed, 'config/strata.service'), 'utf8');
    fs.writeFileSync(unit, shipped.replace(/^ExecStart=strata /m, `ExecStart=${bin} `));
    const verify = await execFileAsync('systemd-analyze', ['verify', unit]);
    assert.equal(verify.stderr, '');
  });
});
