// The addon's one-trip file writer: the same file, owner, mode and times as
// Node's fs calls would leave, and fs-style errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syscalls } from './syscalls';

function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-writefile-'));
  return run(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test('writeFile creates the file with its data, owner, mode (setuid kept) and times', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'f');
    const data = Buffer.from('hello, layer');
    await syscalls.writeFile(file, data, 0o4751, 1234, 5678, 1_600_000_000.25, 1_700_000_000.5);
    const st = fs.lstatSync(file, { bigint: true });
    assert.deepEqual(fs.readFileSync(file), data);
    assert.equal(Number(st.mode & 0o7777n), 0o4751);
    assert.equal([st.uid, st.gid].join(':'), '1234:5678');
    assert.equal(st.atimeNs, 1_600_000_000_250_000_000n);
    assert.equal(st.mtimeNs, 1_700_000_000_500_000_000n);
  }));

test('writeFile writes empty files and files larger than one write', () =>
  withDir(async (dir) => {
    const big = Buffer.alloc(3 << 20, 7);
    await syscalls.writeFile(path.join(dir, 'empty'), Buffer.alloc(0), 0o644, 0, 0, 0, 0);
    await syscalls.writeFile(path.join(dir, 'big'), big, 0o600, 0, 0, 0, 0);
    assert.equal(fs.statSync(path.join(dir, 'empty')).size, 0);
    assert.ok(fs.readFileSync(path.join(dir, 'big')).equals(big));
  }));

test('writeFile neither replaces nor follows what is already there', () =>
  withDir(async (dir) => {
    const outside = path.join(dir, 'outside');
    fs.writeFileSync(outside, 'keep');
    fs.symlinkSync(outside, path.join(dir, 'link'));
    for (const name of ['outside', 'link']) {
      await assert.rejects(syscalls.writeFile(path.join(dir, name), Buffer.from('x'), 0o644, 0, 0, 0, 0), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'EEXIST');
        assert.equal(err.syscall, 'open');
        assert.equal(err.path, path.join(dir, name));
        assert.equal(err.errno, -17);
        return true;
      });
    }
    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep');
    await assert.rejects(syscalls.writeFile(path.join(dir, 'missing', 'f'), Buffer.from('x'), 0o644, 0, 0, 0, 0), { code: 'ENOENT' });
  }));
