// removeTree removes a whole tree and nothing it points at or is mounted in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syscalls } from './syscalls';

test('removeTree removes files, dirs, links, fifos and raw-byte names, never what a symlink points at', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-rmtree-'));
  try {
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'keep'), 'kept');
    const tree = path.join(dir, 'tree');
    for (let d = 0; d < 20; d++) {
      const sub = path.join(tree, `d${d % 4}`, `e${d}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, 'f'), Buffer.alloc(d * 100, d));
      fs.symlinkSync(outside, path.join(sub, 'to-outside'));
    }
    execFileSync('mkfifo', [path.join(tree, 'fifo')]);
    fs.writeFileSync(Buffer.concat([Buffer.from(`${tree}/`), Buffer.from([0xff, 0xfe])]), 'not utf-8');
    fs.chmodSync(path.join(tree, 'd1'), 0o000);
    await syscalls.removeTree(Buffer.from(tree));
    assert.equal(fs.existsSync(tree), false);
    assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'kept');
    await syscalls.removeTree(tree);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('removeTree stops at a mount inside the tree (EBUSY) and leaves what is mounted there', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-rmtree-mount-'));
  const mountPoint = path.join(dir, 'tree', 'mounted');
  fs.mkdirSync(mountPoint, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mountPoint]);
  try {
    fs.writeFileSync(path.join(mountPoint, 'inside'), 'on another filesystem');
    await assert.rejects(syscalls.removeTree(path.join(dir, 'tree')), (err: NodeJS.ErrnoException) => err.code === 'EBUSY');
    assert.equal(fs.readFileSync(path.join(mountPoint, 'inside'), 'utf8'), 'on another filesystem');
  } finally {
    execFileSync('umount', [mountPoint]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('removeTree with its stop flag set removes nothing more and fails with ECANCELED', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-rmtree-stop-'));
  try {
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dir, `f${i}`), 'x');
    const stop = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(stop, 0, 1);
    await assert.rejects(syscalls.removeTree(dir, stop), (err: NodeJS.ErrnoException) => err.code === 'ECANCELED');
    assert.equal(fs.readdirSync(dir).length, 50);
    Atomics.store(stop, 0, 0);
    await syscalls.removeTree(dir, stop);
    assert.equal(fs.existsSync(dir), false);
    assert.throws(() => syscalls.removeTree(dir, new Uint8Array(4) as unknown as Int32Array), TypeError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
