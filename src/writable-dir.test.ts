import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './usage-error';
import { checkWritableDir } from './writable-dir';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-writable-dir-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const refused = (target: string, message: string) =>
  assert.rejects(checkWritableDir(target, '--out'), (err) => err instanceof UsageError && err.message === message);

test('a directory, or one that can be made under one, is taken and not created', async () => {
  await checkWritableDir(dir, '--out');
  await checkWritableDir(path.join(dir, 'a', 'b'), '--out');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a file, or a path under one, is bad usage naming the file', async () => {
  const file = path.join(dir, 'report.json');
  fs.writeFileSync(file, '');
  await refused(file, `--out ${file} is not a directory`);
  await refused(path.join(file, 'out'), `--out ${path.join(file, 'out')}: ${file} is not a directory`);
});

test('a directory mkdir refuses, though access allows its parent (procfs, for root), is bad usage in mkdir\'s words', async () => {
  await refused('/proc/strata-unit/out', '--out /proc/strata-unit/out: mkdir /proc/strata-unit: no such file or directory');
});
