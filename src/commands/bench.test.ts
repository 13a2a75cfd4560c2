import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../usage-error';
import { benchOptions, type BenchFlags } from './bench';

const flags = (extra: Partial<BenchFlags>): BenchFlags => ({ out: 'bench-results', work: '/var/tmp/strata-bench', image: [], snapshotter: [], ...extra });

const refused = (extra: Partial<BenchFlags>, message: RegExp) =>
  assert.throws(() => benchOptions(flags(extra)), (err) => err instanceof UsageError && message.test(err.message));

test('--repetitions takes a positive integer written in digits, and nothing else', () => {
  for (const value of ['0', 'x', '', '1.5', '-1', '1e1', '0x2', ' 3']) refused({ repetitions: value }, /^--repetitions must be a positive integer, not ".*"$/);
  assert.equal(benchOptions(flags({ repetitions: '12' })).repetitions, 12);
  assert.equal(benchOptions(flags({ quick: true })).repetitions, 1);
});

test('a list names known items, or all; an empty one is bad usage', () => {
  refused({ images: 'nosuch' }, /^--images: unknown "nosuch" \(choose from node-modules, .*, or all\)$/);
  refused({ compressions: 'gzip,foo' }, /^--compressions: unknown "foo" \(choose from gzip, zstd, none, or all\)$/);
  refused({ groups: 'foo' }, /^--groups: unknown "foo"/);
  for (const empty of ['', ',', ' , ']) refused({ groups: empty }, /^--groups: empty \(choose from unpack, containerd, decompress, snapshots, content, or all\)$/);
  refused({ images: '' }, /^--images: empty/);
  assert.deepEqual(benchOptions(flags({ compressions: 'all', groups: 'unpack, content' })).groups, ['unpack', 'content']);
});

test('--snapshotter, repeated or comma-separated, names each snapshotter once in the order given; overlayfs and strata by default', () => {
  assert.deepEqual(benchOptions(flags({})).snapshotters, ['overlayfs', 'strata']);
  assert.deepEqual(benchOptions(flags({ snapshotter: ['native,strata', 'overlayfs', 'native'] })).snapshotters, ['native', 'strata', 'overlayfs']);
  refused({ snapshotter: ['overlayfs,zfs'] }, /^--snapshotter: unknown "zfs" \(choose from overlayfs, native, btrfs, strata, or any with --containerd-address\)$/);
  refused({ snapshotter: [','] }, /^--snapshotter: empty \(choose from overlayfs, native, btrfs, strata\)$/);
});

test('--containerd-address takes a socket, any snapshotter name, for its containerd to say whether it has it, and not --containerd', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-options-'));
  const socket = path.join(dir, 'containerd.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    assert.deepEqual(benchOptions(flags({ containerdAddress: socket, snapshotter: ['overlayfs,zfs'] })).snapshotters, ['overlayfs', 'zfs']);
    refused({ containerdAddress: socket, containerd: '/usr/bin/containerd' }, /^--containerd and --containerd-address: one or the other \(--containerd starts that containerd, --containerd-address uses one already running\)$/);
    refused({ containerdAddress: path.join(dir, 'missing.sock') }, /^--containerd-address \S+missing\.sock: no such file$/);
    refused({ containerdAddress: dir }, /^--containerd-address \S+: not a socket$/);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--registry is HOST[:PORT][/PATH], as an image reference names it, without a scheme', () => {
  for (const value of ['registry.example:5000', '127.0.0.1:5000/team/bench', 'localhost']) assert.equal(benchOptions(flags({ registry: value })).registry, value);
  for (const value of ['http://127.0.0.1:5000', 'registry.example/Team', 'registry.example/', 'host:port']) {
    refused({ registry: value }, /^--registry .*: give HOST\[:PORT\]\[\/PATH\], with no scheme \(--plain-http for a registry over http\)$/);
  }
});
