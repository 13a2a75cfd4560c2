// The native walk counts what GNU du counts: allocated bytes and inodes, a
// hardlinked inode once, symlinks as themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syscalls } from './syscalls';

function du(dir: string, ...flags: string[]): number {
  return Number(execFileSync('du', ['-s', ...flags, dir], { encoding: 'utf8' }).split('\t')[0]);
}

test('diskUsage agrees with du on a tree with hardlinks, symlinks, sparse and empty files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-du-'));
  try {
    for (let d = 0; d < 30; d++) {
      const sub = path.join(dir, `d${d % 5}`, `e${d}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, 'f'), Buffer.alloc(d * 3001, d));
      fs.writeFileSync(path.join(sub, 'empty'), '');
      fs.symlinkSync('f', path.join(sub, 'link'));
      if (d % 3 === 0) fs.linkSync(path.join(sub, 'f'), path.join(dir, `hard-${d}`));
    }
    fs.truncateSync(path.join(dir, 'd0/e0/f'), 64 << 20);
    const usage = await syscalls.diskUsage(dir);
    assert.equal(usage.size, du(dir, '-B1'));
    assert.equal(usage.inodes, du(dir, '--inodes'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('diskUsage of a missing tree fails with ENOENT', async () => {
  await assert.rejects(syscalls.diskUsage('/nonexistent/strata-du'), { code: 'ENOENT' });
});
