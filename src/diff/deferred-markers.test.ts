import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syscalls } from '../native/syscalls';
import { DeferredMarkers, replayDeferredMarkers } from './deferred-markers';

const OPAQUE = 'trusted.overlay.opaque';

function scratch(): { dir: string; upper: string; lower: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-deferred-'));
  const upper = path.join(dir, 'upper');
  const lower = path.join(dir, 'lower');
  fs.mkdirSync(upper);
  fs.mkdirSync(lower);
  return { dir, upper, lower, file: path.join(dir, 'markers') };
}

function isWhiteout(target: string): boolean {
  const stat = fs.lstatSync(target, { throwIfNoEntry: false });
  return stat !== undefined && stat.isCharacterDevice() && stat.rdev === 0;
}

test('a record made before its directory, or a parent, was removed is not written', () => {
  const { dir, file } = scratch();
  try {
    const markers = new DeferredMarkers();
    markers.whiteout('/a/b/x', 0, 0);
    markers.opaque('/a/b');
    markers.madeDirectory('/a/c');
    markers.opaque('/d');
    markers.removedDirectory('/a');
    markers.whiteout('/a/y', 1, 2);
    markers.removedDirectory('/d/e');
    markers.append(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string; path: string });
    assert.deepEqual(
      lines.map((l) => [l.kind, Buffer.from(l.path, 'base64').toString('latin1')]),
      [
        ['opaque', '/d'],
        ['whiteout', '/a/y'],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('replay writes markers where nothing of the layer stands, and copies the lower directory to one made for its entries', () => {
  const { dir, upper, lower, file } = scratch();
  try {
    fs.mkdirSync(path.join(lower, 'made'), { mode: 0o750 });
    fs.chmodSync(path.join(lower, 'made'), 0o750);
    fs.chownSync(path.join(lower, 'made'), 12, 34);
    syscalls.lsetxattr(path.join(lower, 'made'), 'user.lower', Buffer.from('l'));
    fs.mkdirSync(path.join(lower, 'declared'));
    syscalls.lsetxattr(path.join(lower, 'declared'), 'user.lower', Buffer.from('l'));
    for (const d of ['made', 'declared', 'opaque']) fs.mkdirSync(path.join(upper, d));
    fs.chmodSync(path.join(upper, 'declared'), 0o711);
    fs.writeFileSync(path.join(upper, 'present'), 'stays');

    const markers = new DeferredMarkers();
    markers.whiteout('/gone', 5, 6);
    markers.whiteout('/present', 0, 0);
    markers.opaque('/opaque');
    markers.madeDirectory('/made');
    markers.madeDirectory('/declared');
    markers.declaredDirectory('/declared');
    markers.append(file);

    for (let run = 0; run < 2; run++) {
      replayDeferredMarkers(file, upper, [lower], OPAQUE);
      assert.ok(isWhiteout(path.join(upper, 'gone')));
      assert.deepEqual([fs.lstatSync(path.join(upper, 'gone')).uid, fs.lstatSync(path.join(upper, 'gone')).gid], [5, 6]);
      assert.equal(fs.readFileSync(path.join(upper, 'present'), 'utf8'), 'stays');
      assert.deepEqual(syscalls.lgetxattr(path.join(upper, 'opaque'), OPAQUE), Buffer.from('y'));
      const made = fs.lstatSync(path.join(upper, 'made'));
      assert.deepEqual([made.mode & 0o7777, made.uid, made.gid], [0o750, 12, 34]);
      assert.deepEqual(syscalls.lgetxattr(path.join(upper, 'made'), 'user.lower'), Buffer.from('l'));
      // Declared after it was made: its own mode, and the lower's xattrs besides.
      assert.equal(fs.lstatSync(path.join(upper, 'declared')).mode & 0o7777, 0o711);
      assert.deepEqual(syscalls.lgetxattr(path.join(upper, 'declared'), 'user.lower'), Buffer.from('l'));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('replay never follows a symlink out of the upper dir', () => {
  const { dir, upper, file } = scratch();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-outside-'));
  try {
    const markers = new DeferredMarkers();
    markers.whiteout('/escape/x', 0, 0);
    markers.opaque('/escape');
    markers.append(file);
    // A later Apply into the same snapshot made the directory a symlink out.
    fs.symlinkSync(outside, path.join(upper, 'escape'));
    replayDeferredMarkers(file, upper, [], OPAQUE);
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.equal(syscalls.lgetxattr(outside, OPAQUE), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

test('no records, no file; replaying a missing file does nothing', () => {
  const { dir, upper, file } = scratch();
  try {
    new DeferredMarkers().append(file);
    assert.equal(fs.existsSync(file), false);
    replayDeferredMarkers(file, upper, [], OPAQUE);
    assert.deepEqual(fs.readdirSync(upper), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
