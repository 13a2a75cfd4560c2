import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../package-root';
import { CONFIG_KEYS, DEFAULTS, keyChoices, LOG_LEVELS } from './config';
import { ConfigError, keyLine, loadConfigFile, resolveConfig, type ConfigFlags } from './config-file';
import { UsageError } from '../usage-error';

function withConfig(text: string, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-config-'));
  try {
    fs.writeFileSync(path.join(dir, 'strata.toml'), text);
    fn(path.join(dir, 'strata.toml'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the shipped config sets every key to its default (max_concurrent_applies, which follows the CPUs, is commented out)', () => {
  const file = path.join(packageRoot(), 'config/strata.toml');
  const { maxConcurrentApplies, ...fixed } = DEFAULTS;
  assert.deepEqual(loadConfigFile(file), fixed);
  assert.ok(maxConcurrentApplies >= 2);
  // `strata config default` prints this file: every key is documented in it.
  const text = fs.readFileSync(file, 'utf8');
  for (const key of CONFIG_KEYS) assert.ok(keyLine(text.replace(/^# (\w+ =)/gm, '$1'), key.name), `${key.name} is not in config/strata.toml`);
});

test('errors name the file, the line and the key, and are usage errors (exit 2)', () => {
  withConfig('root = "/x"\n\n[gc]\nmode = "labels"\nperiod = "1h"\n', (f) =>
    assert.throws(() => loadConfigFile(f), (err: Error) => err instanceof ConfigError && err instanceof UsageError && err.message === `config ${f}:5: unknown key gc.period ([gc] takes mode, interval, ingest_max_age)`),
  );
  withConfig('[log]\nlevel = "info"\nformat = "xml"\n', (f) => assert.throws(() => loadConfigFile(f), new RegExp(`config ${f}:3: log.format must be one of auto, json, text, not "xml"$`)));
  withConfig('shutdown_grace = 10\n', (f) => assert.throws(() => loadConfigFile(f), /:1: shutdown_grace must be a duration/));
  withConfig('gc = 3\n', (f) => assert.throws(() => loadConfigFile(f), /:1: \[gc\] must be a table/));
  withConfig('a = 1\nroot = \n', (f) => assert.throws(() => loadConfigFile(f), (err: Error) => err instanceof ConfigError && /strata\.toml:2: Invalid TOML document/.test(err.message)));
  withConfig('metrics.address = "nowhere"\n', (f) => assert.throws(() => loadConfigFile(f), /:1: metrics\.address must be host:port or an absolute unix socket path/));
  assert.throws(() => loadConfigFile('/nonexistent/strata.toml'), ConfigError);
});

test('keyLine follows tables, dotted and quoted keys', () => {
  const text = '# c\nroot = "/r"\n[diff]\n  sync_fs = true\n[ "gc" ]\n"mode" = "labels"\nlog.level = "debug"\n';
  assert.equal(keyLine(text, 'root'), 2);
  assert.equal(keyLine(text, 'diff'), 3);
  assert.equal(keyLine(text, 'diff.sync_fs'), 4);
  assert.equal(keyLine(text, 'gc.mode'), 6);
  assert.equal(keyLine(text, 'gc.log.level'), 7);
  assert.equal(keyLine(text, 'backend'), undefined);
});

test('flags override the file, the file overrides defaults, and /etc/strata/config.toml is read only when it exists', () => {
  withConfig('backend = "native"\nroot = "/from-file"\n[metrics]\naddress = "127.0.0.1:9400"\n', (f) => {
    const config = resolveConfig({ config: f, root: '/from-flag' });
    assert.deepEqual([config.root, config.backend, config.metricsAddress, config.address], ['/from-flag', 'native', '127.0.0.1:9400', DEFAULTS.address]);
    assert.equal(resolveConfig({}, f).backend, 'native');
  });
  assert.deepEqual(resolveConfig({}, '/nonexistent/config.toml'), DEFAULTS);
});

test('bad configs are refused with the key named', () => {
  withConfig('backend = "zfs"', (f) => assert.throws(() => loadConfigFile(f), /backend must be one of/));
  withConfig('rooot = "/x"', (f) => assert.throws(() => loadConfigFile(f), /unknown key "rooot"/));
  withConfig('[diff]\nsync_fs = "yes"', (f) => assert.throws(() => loadConfigFile(f), /sync_fs/));
  withConfig('[diff]\nforeign_mounts = 1', (f) => assert.throws(() => loadConfigFile(f), /diff\.foreign_mounts must be true or false/));
  withConfig('[diff]\nmax_concurrent_applies = 0', (f) => assert.throws(() => loadConfigFile(f), /at least 1/));
  withConfig('[diff]\nmaximum = 3', (f) => assert.throws(() => loadConfigFile(f), /unknown key diff\.maximum/));
  withConfig('[grpc]\nmax_message_bytes = 1024', (f) => assert.throws(() => loadConfigFile(f), /at least 4096/));
  withConfig('[grpc]\nmax_message_bytes = 8388608\nmax_streams_per_connection = 64\n[diff]\nmax_concurrent_applies = 3', (f) =>
    assert.deepEqual(loadConfigFile(f), { maxMessageBytes: 8 << 20, maxStreamsPerConnection: 64, maxConcurrentApplies: 3 }),
  );
  withConfig('[diff]\nforeign_mounts = true', (f) => assert.deepEqual(loadConfigFile(f), { foreignMounts: true }));
  withConfig('root = ', (f) => assert.throws(() => loadConfigFile(f), /config .*strata.toml/));
});

test('the socket keys: socket.mode as an octal string or a TOML octal, and socket.gid', () => {
  withConfig('[socket]\nmode = "0640"\ngid = 27\n', (f) => assert.deepEqual(loadConfigFile(f), { socketMode: 0o640, socketGid: 27 }));
  withConfig('[socket]\nmode = 0o600\n', (f) => assert.deepEqual(loadConfigFile(f), { socketMode: 0o600 }));
  withConfig('[socket]\nmode = "0666"', (f) => assert.throws(() => loadConfigFile(f), /no bits for others/));
  withConfig('[socket]\nmode = "rw"', (f) => assert.throws(() => loadConfigFile(f), /socket\.mode/));
  withConfig('[socket]\ngid = -1', (f) => assert.throws(() => loadConfigFile(f), /socket\.gid must be a numeric id/));
  withConfig('[socket]\nowner = 0', (f) => assert.throws(() => loadConfigFile(f), /unknown key socket\.owner/));
});

test('the collector keys: gc.mode, gc.interval, gc.ingest_max_age and snapshotter_name', () => {
  withConfig('snapshotter_name = "fast"\n[gc]\nmode = "labels"\ninterval = "30m"\ningest_max_age = "2h"\n', (f) =>
    assert.deepEqual(loadConfigFile(f), { snapshotterName: 'fast', gcMode: 'labels', gcIntervalMs: 30 * 60_000, gcIngestMaxAgeMs: 2 * 3600_000 }),
  );
  withConfig('[gc]\nmode = "sometimes"', (f) => assert.throws(() => loadConfigFile(f), /gc\.mode must be one of containerd, labels/));
  withConfig('[gc]\ninterval = "soon"', (f) => assert.throws(() => loadConfigFile(f), /gc\.interval must be a duration/));
  withConfig('[gc]\ninterval = 30', (f) => assert.throws(() => loadConfigFile(f), /gc\.interval must be a duration/));
  withConfig('[gc]\nperiod = "1h"', (f) => assert.throws(() => loadConfigFile(f), /unknown key gc\.period/));
});

test('every value serve would refuse is refused here, with the file, line and key', () => {
  const refused = (text: string, message: string) =>
    withConfig(text, (f) => assert.throws(() => resolveConfig({ config: f }), (err: Error) => err instanceof ConfigError && err.message === `config ${f}:${message}`));
  refused('[metrics]\naddress = "127.0.0.1:99999"', '2: metrics.address must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most 107 bytes), not "127.0.0.1:99999"');
  refused('[metrics]\naddress = "metrics.sock"', '2: metrics.address must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most 107 bytes), not "metrics.sock"');
  // bind would cut the path short and listen under another name.
  refused(`[metrics]\naddress = "/run/${'m'.repeat(100)}.sock"`, `2: metrics.address must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most 107 bytes), not "/run/${'m'.repeat(100)}.sock"`);
  refused('[metrics]\naddress = "999.0.0.1:9400"', '2: metrics.address must be host:port or an absolute unix socket path (a port from 0 to 65535, a path of at most 107 bytes), not "999.0.0.1:9400"');
  refused('root = "var/lib/strata"', '1: root must be an absolute path other than /, not "var/lib/strata"');
  refused('root = "/"', '1: root must be an absolute path other than /, not "/"');
  refused('address = "strata.sock"', '1: address must be an absolute unix socket path of at most 98 bytes, not "strata.sock"');
  // The socket is bound as .NAME.PID beside the address first: that name must fit too.
  refused(`address = "/run/${'s'.repeat(89)}.sock"`, `1: address must be an absolute unix socket path of at most 98 bytes, not "/run/${'s'.repeat(89)}.sock"`);
  refused('[log]\nfile = "strata.log"', '2: log.file must be an absolute path, or "" for stderr, not "strata.log"');
  refused('shutdown_grace = "25d"', '1: shutdown_grace must be a duration such as "30m" or "24h", at most "24d", not "25d"');
  refused('[gc]\ninterval = "30d"', '2: gc.interval must be a duration such as "30m" or "24h", at most "24d", not "30d"');
  refused('[grpc]\nmax_streams_per_connection = 4294967296', '2: grpc.max_streams_per_connection must be a whole number from 1 to 4294967295, not 4294967296');
  refused('[mirror]\naddress = "localhost:65536"', '2: mirror.address must be host:port, with a port from 0 to 65535, not "localhost:65536"');
  refused('[mirror]\npeers_dns = "peers.local:0"', '2: mirror.peers_dns must be host:port, with a port from 1 to 65535, not "peers.local:0"');
  refused('[mirror]\npeers = ["http://10.0.0.2:99999"]', '2: mirror.peers must be a list of http://host:port URLs, not ["http://10.0.0.2:99999"]');
  refused('[mirror]\npeer_timeout = "0"', '2: mirror.peer_timeout must be a duration such as "30m" or "24h", at least "1ms", at most "24d", not "0"');
  refused('[metrics]\naddress = "/run/strata/strata.sock"', '2: metrics.address "/run/strata/strata.sock" is strata\'s gRPC socket (address)');
  refused('[metrics]\naddress = "127.0.0.1:9400"\n[mirror]\naddress = "127.0.0.1:9400"', '4: mirror.address "127.0.0.1:9400" is metrics.address too');
});

test('the values at the edges of what serve takes are taken', () => {
  withConfig(
    `root = "/srv/strata/"\naddress = "/run/${'s'.repeat(88)}.sock"\nshutdown_grace = "24d"\n[log]\nfile = ""\n[metrics]\naddress = "[::1]:65535"\n[grpc]\nmax_streams_per_connection = 4294967295\n` +
      '[mirror]\naddress = "0.0.0.0:0"\npeers = ["http://node-2.cluster.local:5000/", "https://10.0.0.3"]\npeers_dns = "mirrors.cluster.local:5000"\npeer_timeout = "1ms"\n[gc]\ningest_max_age = "1000d"\n',
    (f) => assert.doesNotThrow(() => resolveConfig({ config: f })),
  );
  withConfig('[metrics]\naddress = ":0"\n[mirror]\naddress = "127.0.0.1:0"\n', (f) => assert.doesNotThrow(() => resolveConfig({ config: f })));
  withConfig(`[metrics]\naddress = "/run/${'m'.repeat(97)}.sock"\n`, (f) => assert.doesNotThrow(() => resolveConfig({ config: f })));
});

test('--root and --address are read as the keys they override: a bad one is a usage error naming the flag', () => {
  const refusal = (flags: ConfigFlags, message: string) =>
    assert.throws(() => resolveConfig(flags, '/nonexistent/config.toml'), (err: Error) => err instanceof UsageError && !(err instanceof ConfigError) && err.message === message);
  refusal({ root: 'var/lib/strata' }, '--root must be an absolute path other than /, not "var/lib/strata"');
  refusal({ root: '' }, '--root must be an absolute path other than /, not ""');
  refusal({ address: 'strata.sock' }, '--address must be an absolute unix socket path of at most 98 bytes, not "strata.sock"');
  refusal({ logLevel: 'loud' }, '--log-level must be one of trace, debug, info, warn, error, fatal, silent, not "loud"');
  // The gRPC socket named by the flag is where the file's metrics would go.
  withConfig('[metrics]\naddress = "/tmp/strata.sock"\n', (f) =>
    assert.throws(() => resolveConfig({ config: f, address: '/tmp/strata.sock' }), (err: Error) => err.message === `config ${f}:2: metrics.address "/tmp/strata.sock" is strata's gRPC socket (address)`),
  );
});

test('the serve flags are the keys that name them, and offer the words those keys take', () => {
  assert.deepEqual(keyChoices('log.level'), LOG_LEVELS);
  assert.deepEqual(CONFIG_KEYS.filter((key) => key.flag).map((key) => key.flag), ['--root', '--address', '--backend', '--log-level', '--gc-mode']);
});
