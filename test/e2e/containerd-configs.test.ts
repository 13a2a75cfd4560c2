// The containerd configs strata ships, one per generation: each parses, and
// says what its containerd needs, as read from that containerd's source
// (containerd 2.x cannot be run here). containerd 1.6 itself starts from its
// file in cri-kubernetes.test.ts and pull-run.test.ts; here it is shown the
// 1.7 file's diff proxy and panics, which is why the 1.6 file has none.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'smol-toml';
import { mergeToml, type TomlTable } from '../../native-bench/harness/containerd';
import { proxyPlugins, readShippedConfig, SHIPPED_CONFIGS, shippedConfigFor } from '../../native-bench/harness/shipped-configs';

const execFileAsync = promisify(execFile);

const SOCKET = '/run/strata/strata.sock';
const ROOT = '/var/lib/strata';
const BUILT_IN_CONTENT = 'io.containerd.content.v1.content';

function table(config: TomlTable, ...keys: string[]): TomlTable {
  let at: unknown = config;
  for (const key of keys) at = (at as TomlTable | undefined)?.[key];
  assert.ok(typeof at === 'object' && at !== null, `${keys.join('.')} is a table`);
  return at as TomlTable;
}

describe('the shipped containerd configs', () => {
  let workDir = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-configs-'));
  });

  after(() => fs.promises.rm(workDir, { recursive: true, force: true }));

  it('each parses, disables the built-in content store, and serves snapshots and content from strata\'s default socket', () => {
    for (const name of SHIPPED_CONFIGS) {
      const config = readShippedConfig(name);
      assert.deepEqual(config.disabled_plugins, [BUILT_IN_CONTENT], name);
      const proxies = proxyPlugins(config);
      assert.deepEqual({ type: proxies.strata.type, address: proxies.strata.address }, { type: 'snapshot', address: SOCKET }, name);
      assert.deepEqual({ ...proxies['strata-content'] }, { type: 'content', address: SOCKET }, name);
      assert.deepEqual({ ...proxies.strata.exports }, { root: ROOT }, `${name}: exports.root, for ImageFsInfo`);
    }
  });

  it('1.6: version 2, no diff proxy (1.6 panics on one), and CRI on strata', () => {
    const config = readShippedConfig('containerd-1.6.toml');
    assert.equal(config.version, 2);
    assert.deepEqual(Object.values(proxyPlugins(config)).map((p) => p.type).sort(), ['content', 'snapshot']);
    assert.equal(table(config, 'plugins', 'io.containerd.grpc.v1.cri', 'containerd').snapshotter, 'strata');
  });

  it('1.7: version 2, the diff proxy first in the diff service, the transfer service unpacking into strata, and CRI on strata', () => {
    const config = readShippedConfig('containerd-1.7.toml');
    assert.equal(config.version, 2);
    assert.deepEqual({ ...proxyPlugins(config)['strata-diff'] }, { type: 'diff', address: SOCKET });
    assert.deepEqual(table(config, 'plugins', 'io.containerd.service.v1.diff-service').default, ['strata-diff', 'walking']);
    assert.equal(table(config, 'plugins', 'io.containerd.grpc.v1.cri', 'containerd').snapshotter, 'strata');
    const unpack = table(config, 'plugins', 'io.containerd.transfer.v1.local').unpack_config as TomlTable[];
    assert.deepEqual(unpack.map((u) => ({ ...u })), [{ platform: 'linux', snapshotter: 'strata', differ: 'strata-diff' }]);
  });

  it('2.x: version 3, rebase, the diff proxy pinned in the transfer service\'s unpack_config with parallel unpacks, and CRI\'s images on strata', () => {
    const config = readShippedConfig('containerd-2.toml');
    assert.equal(config.version, 3);
    const proxies = proxyPlugins(config);
    assert.deepEqual(proxies.strata.capabilities, ['rebase']);
    assert.deepEqual({ ...proxies['strata-diff'] }, { type: 'diff', address: SOCKET });
    assert.equal(table(config, 'plugins', 'io.containerd.cri.v1.images').snapshotter, 'strata');
    const transfer = table(config, 'plugins', 'io.containerd.transfer.v1.local');
    assert.ok((transfer.max_concurrent_unpacks as number) > 1, 'parallel unpack needs more than one unpack at once');
    assert.deepEqual((transfer.unpack_config as TomlTable[]).map((u) => ({ ...u })), [{ platform: 'linux', snapshotter: 'strata', differ: 'strata-diff' }]);
    assert.deepEqual(table(config, 'plugins', 'io.containerd.service.v1.diff-service').default, ['strata-diff', 'walking']);
  });

  it('containerd 1.6 given a diff proxy (the 1.7 file) panics at start', async () => {
    const dir = await fs.promises.mkdtemp(path.join(workDir, '1.6-with-diff-'));
    const own = { root: path.join(dir, 'root'), state: path.join(dir, 'state'), grpc: { address: path.join(dir, 'containerd.sock') } };
    const configPath = path.join(dir, 'config.toml');
    await fs.promises.writeFile(configPath, stringify(mergeToml(shippedConfigFor('containerd-1.7.toml', { socket: path.join(dir, 'strata.sock'), root: dir }), own)));
    const result = await execFileAsync('containerd', ['--config', configPath], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: String(error.stderr) }),
    );
    assert.equal(result.code, 2, 'a Go panic exits with 2');
    assert.match(result.stderr, /unknown proxy plugin type.*type=diff/);
    assert.match(result.stderr, /panic: plugin: no type/);
  });
});
