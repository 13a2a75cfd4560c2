import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { Report, Stack } from '../model';
import { durationText, indicativeNote, runLine, stackLines } from './run-details';

const kept = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'native-bench', 'results', 'first-pulls-1.7.13', 'bench.json'), 'utf8')) as Report;
const run = (options: Record<string, unknown>): Report => ({ ...kept, options: { ...kept.options, ...options } });

test('figures of fewer than 3 repetitions, or of a quick run, are indicative, and say what to compare instead', () => {
  assert.equal(indicativeNote(run({ repetitions: 3, scale: 1 })), undefined);
  assert.equal(indicativeNote(run({ repetitions: 5, scale: 1 })), undefined);
  assert.equal(indicativeNote(run({ repetitions: 1, scale: 1 })), 'Indicative: 1 repetition; compare runs of 3 or more');
  assert.equal(indicativeNote(run({ repetitions: 2, scale: 1 })), 'Indicative: 2 repetitions; compare runs of 3 or more');
  assert.equal(indicativeNote(run({ repetitions: 1, scale: 0.02 })), 'Indicative: 1 repetition (quick mode, 2 % scale); compare full runs of 3 or more repetitions');
  assert.equal(indicativeNote(run({ repetitions: 3, scale: 0.02 })), 'Indicative: quick mode (2 % scale); compare full runs of 3 or more repetitions');
});

test('the run line gives the date, duration, repetitions and mode', () => {
  assert.equal(runLine(kept), '2026-12-07 14:38 UTC, 6 min, 3 repetitions, full scale');
  assert.equal(runLine({ ...run({ repetitions: 1, scale: 0.02 }), seconds: 41.6 }), '2026-12-07 14:38 UTC, 42 s, 1 repetition, quick mode (2 % scale)');
  assert.equal(durationText(4180), '70 min');
  assert.equal(durationText(5400), '1 h 30 min');
});

test('the stack reads as one line for containerd and one per snapshotter, with its status and exports; none when unrecorded', () => {
  assert.deepEqual(stackLines(kept), []);
  const stack: Stack = {
    containerd: { client: '1.7.13', server: '1.7.13' },
    snapshotters: [
      { id: 'btrfs', status: 'ok', exports: { root: '/var/tmp/b' } },
      { id: 'strata', status: 'ok', exports: {} },
    ],
  };
  assert.deepEqual(stackLines({ ...kept, stack }), ['containerd 1.7.13 (ctr 1.7.13)', 'snapshotter btrfs: ok, root /var/tmp/b', 'snapshotter strata: ok']);
});
