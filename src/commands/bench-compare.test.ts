import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../usage-error';
import { baselineOperand, compareOperands } from './bench-compare';

const usage = (message: RegExp) => (err: unknown) => err instanceof UsageError && message.test(err.message);

test('--compare takes two reports, with --out and --json only', () => {
  assert.equal(compareOperands(undefined, ['--quick']), undefined);
  assert.deepEqual(compareOperands(['a.json', 'b.json'], ['--compare', '--out', '--json']), ['a.json', 'b.json']);
  for (const reports of [['a.json'], ['a.json', 'b.json', 'c.json']]) {
    assert.throws(() => compareOperands(reports, ['--compare']), usage(new RegExp(`^--compare takes two reports, A\\.json then B\\.json, not ${reports.length}$`)));
  }
  for (const flag of ['--quick', '--work', '--groups', '--from', '--baseline']) {
    assert.throws(() => compareOperands(['a.json', 'b.json'], ['--compare', '--out', flag]), usage(new RegExp(`^--compare runs nothing, so it takes only --out and --json, not ${flag}$`)));
  }
});

test('--baseline goes with a run, not with --from', () => {
  assert.equal(baselineOperand('old.json', ['--baseline', '--quick']), 'old.json');
  assert.equal(baselineOperand(undefined, ['--from']), undefined);
  assert.throws(() => baselineOperand('old.json', ['--baseline', '--from']), usage(/^--baseline compares a run with an earlier report, and --from runs nothing \(for two reports: --compare A\.json B\.json\)$/));
});
