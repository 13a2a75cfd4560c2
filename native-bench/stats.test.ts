import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize } from './stats';

test('percentiles are nearest-rank, and the summary has the sample standard deviation', () => {
  const values = [5, 1, 4, 2, 3];
  const summary = summarize(values);
  assert.deepEqual([summary.n, summary.mean, summary.p50, summary.p90, summary.min, summary.max], [5, 3, 3, 5, 1, 5]);
  assert.equal(summary.stddev.toFixed(4), Math.sqrt(2.5).toFixed(4));
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.equal(summarize([7]).stddev, 0);
});
