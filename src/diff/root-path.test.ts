import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rootPath } from './root-path';

test('names and symlinks resolve inside the root, however they climb', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-rootpath-'));
  try {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.symlinkSync('/etc', path.join(root, 'abs'));
    fs.symlinkSync('../../../../etc', path.join(root, 'etc', 'rel'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    assert.equal(await rootPath(root, '../../etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await rootPath(root, '/etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await rootPath(root, 'abs/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await rootPath(root, 'etc/rel/shadow'), path.join(root, 'etc/shadow'));
    assert.equal(await rootPath(root, 'a/./b/../c'), path.join(root, 'a/c'));
    assert.equal(await rootPath(root, '..'), root);
    await assert.rejects(rootPath(root, 'loop/x'), /too many symlinks/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
