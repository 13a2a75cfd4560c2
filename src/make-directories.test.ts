import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirectories } from './make-directories';

test('makes the directory and its missing parents with the mode given, and takes one that is there', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-mkdirs-'));
  try {
    const deep = path.join(dir, 'a', 'b', 'c');
    await makeDirectories(deep, 0o700);
    for (const made of [path.join(dir, 'a'), path.join(dir, 'a', 'b'), deep]) assert.equal(fs.statSync(made).mode & 0o777, 0o700);
    await makeDirectories(deep);
    fs.symlinkSync(deep, path.join(dir, 'link'));
    await makeDirectories(path.join(dir, 'link'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file in the way, or a parent that exists and refuses its child, is the answer', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-mkdirs-'));
  try {
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    await assert.rejects(makeDirectories(file), { code: 'EEXIST', syscall: 'mkdir', path: file });
    await assert.rejects(makeDirectories(path.join(file, 'a', 'b')), { code: 'ENOTDIR', syscall: 'mkdir', path: path.join(file, 'a', 'b') });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // In a child, killed after 10 s: Node's recursive mkdir never returns from this one.
  const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(require.resolve('./make-directories'))}).makeDirectories('/proc/strata-test/a').catch((err) => console.log(err.code, err.path))`], {
    encoding: 'utf8',
    timeout: 10_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(child.stdout, 'ENOENT /proc/strata-test\n');
});
