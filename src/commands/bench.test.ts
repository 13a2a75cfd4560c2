import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  refused({ snapshotter: ['overlayfs,zfs'] }, /^--snapshotter: unknown "zfs" \(choose from overlayfs, native, btrfs, strata\)$/);
  refused({ snapshotter: [','] }, /^--snapshotter: empty \(choose from overlayfs, native, btrfs, strata\)$/);
});
