import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSnapshotterPlugins, parseVersions } from './containerd-plugins';

// As containerd 1.7.13's ctr printed them (tabwriter's padding kept), with btrfs enabled off btrfs and a proxy plugin.
const DETAILED = [
  'Type:          io.containerd.snapshotter.v1',
  'ID:            btrfs',
  'Platforms:     linux/amd64',
  'Exports:      ',
  '               root      /tmp/not-btrfs',
  'Error:        ',
  '               Code:        Unknown',
  '               Message:     path /tmp/not-btrfs (ext4) must be a btrfs filesystem to be used with the btrfs snapshotter: skip plugin',
  '                               ',
  'Type:          io.containerd.snapshotter.v1',
  'ID:            native',
  'Platforms:     linux/amd64',
  '                      ',
  'Type:          io.containerd.snapshotter.v1',
  'ID:            overlayfs',
  'Platforms:     linux/amd64',
  'Exports:      ',
  '               root      /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs',
  '                            ',
  'Type:          io.containerd.snapshotter.v1',
  'ID:            strata',
  'Exports:      ',
  '               address      /run/strata/strata.sock',
  '               root         /var/lib/strata',
  '',
].join('\n');

test("ctr plugins ls --detailed: each snapshotter's status (ok, or skip or error as ctr tells them apart), exports and why it did not load", () => {
  assert.deepEqual(parseSnapshotterPlugins(DETAILED), [
    { id: 'btrfs', status: 'skip', exports: { root: '/tmp/not-btrfs' }, error: 'path /tmp/not-btrfs (ext4) must be a btrfs filesystem to be used with the btrfs snapshotter: skip plugin' },
    { id: 'native', status: 'ok', exports: {} },
    { id: 'overlayfs', status: 'ok', exports: { root: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' } },
    { id: 'strata', status: 'ok', exports: { address: '/run/strata/strata.sock', root: '/var/lib/strata' } },
  ]);
  const failed = 'Type:          io.containerd.snapshotter.v1\nID:            devmapper\nError:        \n               Code:        Unknown\n               Message:     devmapper not configured\n';
  assert.deepEqual(parseSnapshotterPlugins(failed), [{ id: 'devmapper', status: 'error', exports: {}, error: 'devmapper not configured' }]);
  assert.deepEqual(parseSnapshotterPlugins('Type:          io.containerd.content.v1\nID:            content\n'), []);
});

test("ctr version: ctr's version and containerd's", () => {
  const printed = 'Client:\n  Version:  1.6.20~ds1\n  Revision: 1.6.20~ds1-1+deb12u3\n  Go version: go1.19.8\n\nServer:\n  Version:  1.7.13+unknown\n  Revision: \n  UUID: 1c039413-6acd-4e78-89fc-511d6103b538\n';
  assert.deepEqual(parseVersions(printed), { client: '1.6.20~ds1', server: '1.7.13+unknown' });
  assert.throws(() => parseVersions('Client:\n  Version:  1.6.20~ds1\n'), /^Error: ctr version printed "Client:\\n  Version:  1\.6\.20~ds1", not a client's and a server's version$/);
});
