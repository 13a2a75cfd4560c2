import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { treeChanges } from './tree-changes';

test('changes: adds, modifications, deletions, and type swaps as single changes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-changes-'));
  const [lower, upper] = ['lower', 'upper'].map((d) => path.join(dir, d));
  try {
    for (const root of [lower, upper]) {
      fs.mkdirSync(path.join(root, 'same'), { recursive: true });
      fs.writeFileSync(path.join(root, 'same/file'), 's');
      fs.utimesSync(path.join(root, 'same/file'), 1000, 1000);
    }
    fs.writeFileSync(path.join(lower, 'deleted'), 'd');
    fs.mkdirSync(path.join(lower, 'dir2file/inner'), { recursive: true });
    fs.writeFileSync(path.join(lower, 'file2dir'), 'f');
    fs.writeFileSync(path.join(upper, 'dir2file'), 'now a file');
    fs.mkdirSync(path.join(upper, 'file2dir'));
    fs.writeFileSync(path.join(upper, 'file2dir/child'), 'c');
    fs.writeFileSync(path.join(upper, 'added'), 'a');
    fs.chmodSync(path.join(upper, 'same'), 0o700);
    const changes: string[] = [];
    for await (const c of treeChanges(lower, upper)) changes.push(`${c.kind} ${c.path}`);
    assert.deepEqual(changes, [
      'add added',
      'delete deleted',
      'modify dir2file',
      'add file2dir',
      'add file2dir/child',
      'modify same',
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
