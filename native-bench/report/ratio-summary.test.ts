import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { Report } from '../model';
import { ratioSummary } from './ratio-summary';

const kept = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'native-bench', 'results', 'first-pulls-1.7.13', 'bench.json'), 'utf8')) as Report;
const ratios = (values: [string, string, number][]): Report => ({ ...kept, ratios: values.map(([kind, subject, ratio]) => ({ kind, subject, ratio })) });

test('how many comparisons, which way each kind went, in the report\'s order, and the largest wins and losses', () => {
  const summary = ratioSummary(
    ratios([
      ['b: A / B', 'x', 0.5],
      ['b: A / B', 'y', 0.25],
      ['a: A / B', 'x', 1.5],
      ['c: A / B', 'x', 0.9],
      ['c: A / B', 'y', 3],
      ['c: A / B', 'z', 0.004],
    ]),
  );
  assert.equal(
    summary,
    [
      "6 comparisons of the first's time over the second's: the first is faster in 4, slower in 2.",
      '  faster             0.25–0.50  b: A / B',
      '  slower                  1.50  a: A / B',
      '  faster in 2 of 3  0.004–3.00  c: A / B',
      'Largest wins: 0.004 c: A / B (z); 0.25 b: A / B (y); 0.50 b: A / B (x)',
      'Largest losses: 3.00 c: A / B (y); 1.50 a: A / B (x)',
      '',
    ].join('\n'),
  );
});

test('a report with no ratios says so, and one that could not be worked out is left out', () => {
  assert.equal(ratioSummary(ratios([])), 'No comparisons: the groups that ran compare nothing.\n');
  assert.match(ratioSummary({ ...kept, ratios: [{ kind: 'a: A / B', subject: 'x', ratio: null as unknown as number }, { kind: 'a: A / B', subject: 'y', ratio: 1 }] }), /^1 comparison of .*: the first is faster in 0, slower in 0, even in 1\.$/m);
});
