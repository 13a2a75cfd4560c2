// The addon's batch file writer: the same files, owners, modes and times as
// Node's fs calls would leave, and an fs-style error for each file that fails.
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

/** Writes one file in a batch of its own, rejecting with its error. */
async function writeFile(file: string, data: Buffer, mode: number, uid: number, gid: number, atime: number, mtime: number): Promise<void> {
  const [error] = await syscalls.writeFiles([[file, data, mode, uid, gid, atime, mtime]]);
  if (error) throw error;
}

test('writeFiles creates the file with its data, owner, mode (setuid kept) and times', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'f');
    const data = Buffer.from('hello, layer');
    await writeFile(file, data, 0o4751, 1234, 5678, 1_600_000_000.25, 1_700_000_000.5);
    const st = fs.lstatSync(file, { bigint: true });
    assert.deepEqual(fs.readFileSync(file), data);
    assert.equal(Number(st.mode & 0o7777n), 0o4751);
    assert.equal([st.uid, st.gid].join(':'), '1234:5678');
    assert.equal(st.atimeNs, 1_600_000_000_250_000_000n);
    assert.equal(st.mtimeNs, 1_700_000_000_500_000_000n);
  }));

test('writeFiles writes empty files and files larger than one write', () =>
  withDir(async (dir) => {
    const big = Buffer.alloc(3 << 20, 7);
    await writeFile(path.join(dir, 'empty'), Buffer.alloc(0), 0o644, 0, 0, 0, 0);
    await writeFile(path.join(dir, 'big'), big, 0o600, 0, 0, 0, 0);
    assert.equal(fs.statSync(path.join(dir, 'empty')).size, 0);
    assert.ok(fs.readFileSync(path.join(dir, 'big')).equals(big));
  }));

test('writeFiles neither replaces nor follows what is already there', () =>
  withDir(async (dir) => {
    const outside = path.join(dir, 'outside');
    fs.writeFileSync(outside, 'keep');
    fs.symlinkSync(outside, path.join(dir, 'link'));
    for (const name of ['outside', 'link']) {
      await assert.rejects(writeFile(path.join(dir, name), Buffer.from('x'), 0o644, 0, 0, 0, 0), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'EEXIST');
        assert.equal(err.syscall, 'open');
        assert.equal(err.path, path.join(dir, name));
        assert.equal(err.errno, -17);
        return true;
      });
    }
    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep');
    await assert.rejects(writeFile(path.join(dir, 'missing', 'f'), Buffer.from('x'), 0o644, 0, 0, 0, 0), { code: 'ENOENT' });
  }));

test('a batch writes every file it can, in order, and says which failed and why', () =>
  withDir(async (dir) => {
    fs.writeFileSync(path.join(dir, 'taken'), 'keep');
    const names = ['a', 'taken', 'b', 'missing/c', 'd'];
    const errors = await syscalls.writeFiles(names.map((name, i) => [path.join(dir, name), Buffer.from(`file ${i}`), 0o640, 0, 0, 0, 0]));
    assert.deepEqual(
      errors.map((err) => err?.code),
      [undefined, 'EEXIST', undefined, 'ENOENT', undefined],
    );
    assert.equal(errors[1]?.path, path.join(dir, 'taken'));
    for (const [i, name] of names.entries()) {
      if (errors[i]) continue;
      assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), `file ${i}`);
      assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o640);
    }
    assert.equal(fs.readFileSync(path.join(dir, 'taken'), 'utf8'), 'keep');
    assert.deepEqual(await syscalls.writeFiles([]), []);
    assert.throws(() => syscalls.writeFiles([['x', 'not a buffer' as unknown as Buffer, 0, 0, 0, 0, 0]]), TypeError);
  }));

test('a Buffer path is taken as raw bytes, by writeFiles and the synchronous calls alike', () =>
  withDir(async (dir) => {
    const name = Buffer.from([0xff, 0xfe, 0x0a, 0x80]);
    const at = (suffix: string) => Buffer.concat([Buffer.from(`${dir}/`), name, Buffer.from(suffix)]);
    const [error] = await syscalls.writeFiles([[at('-file'), Buffer.from('x'), 0o600, 0, 0, 0, 0]]);
    assert.equal(error, undefined);
    syscalls.mknod(at('-fifo'), fs.constants.S_IFIFO | 0o600, 0, 0);
    syscalls.lsetxattr(at('-file'), 'user.t', Buffer.from('v'));
    assert.deepEqual(syscalls.lgetxattr(at('-file'), 'user.t'), Buffer.from('v'));
    fs.symlinkSync(name, at('-link'));
    assert.deepEqual(syscalls.readlinkIfSymlink(at('-link')), name);
    const names = fs.readdirSync(dir, { encoding: 'buffer' }).map((n) => n.toString('latin1')).sort();
    assert.deepEqual(names, ['-fifo', '-file', '-link'].map((s) => Buffer.concat([name, Buffer.from(s)]).toString('latin1')).sort());
    assert.throws(() => syscalls.mknod(Buffer.from(`${dir}/a\0b`), fs.constants.S_IFIFO, 0, 0), /without NUL/);
  }));
