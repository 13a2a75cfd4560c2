import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from './package-root';
import { loadConfigFile } from './config';

function withConfig(text: string, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-config-'));
  try {
    fs.writeFileSync(path.join(dir, 'strata.toml'), text);
    fn(path.join(dir, 'strata.toml'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the shipped default config loads', () => {
  const config = loadConfigFile(path.join(packageRoot(), 'config/strata.toml'));
  assert.deepEqual(config, {
    root: '/var/lib/strata',
    address: '/run/strata/strata.sock',
    backend: 'overlayfs',
    logLevel: 'info',
    syncFs: false,
    foreignMounts: false,
    socketMode: 0o660,
    socketGid: 0,
    maxMessageBytes: 16 << 20,
    maxStreamsPerConnection: 1000,
    maxUncompressedBytes: 64 * 2 ** 30,
    maxCompressionRatio: 10_000,
    snapshotterName: 'strata',
    gcMode: 'containerd',
    gcIntervalMs: 0,
    gcIngestMaxAgeMs: 24 * 3600_000,
  });
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
