// Deletes run after the call that dropped them; close() stops them part way
// and leaves the rest on disk for the next Cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BackgroundRemovals } from './background-removals';

const log = pino({ level: 'silent' });

function makeTree(root: string, files: number): void {
  for (let d = 0; d < files / 100; d++) {
    const sub = path.join(root, `d${d}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(sub, `f${f}`), '');
  }
}

test('drain waits until every added directory is gone', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-removals-'));
  try {
    const removals = new BackgroundRemovals(log);
    for (const name of ['a', 'b', 'c']) {
      makeTree(path.join(dir, name), 300);
      removals.add(path.join(dir, name));
    }
    assert.equal(removals.has(path.join(dir, 'a')), true);
    await removals.drain();
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal(removals.has(path.join(dir, 'a')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('close stops the deletes and leaves what they had not reached for a later one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-removals-stop-'));
  try {
    const removals = new BackgroundRemovals(log);
    for (const name of ['a', 'b']) {
      makeTree(path.join(dir, name), 2000);
      removals.add(path.join(dir, name));
    }
    await removals.close();
    // Stopped before either walk began: both trees are whole.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a', 'b']);
    assert.equal(fs.readdirSync(path.join(dir, 'a')).length, 20);

    const again = new BackgroundRemovals(log);
    again.add(path.join(dir, 'a'));
    again.add(path.join(dir, 'b'));
    await again.drain();
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
