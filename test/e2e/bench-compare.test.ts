// `strata bench --compare A.json B.json` compares two reports figure by
// figure, and `--baseline OLD.json` a run with an earlier report: verdicts
// where the repetitions' ranges say so, figures only one run has, and where
// the machines differ, on stdout and in compare.json, .txt and .md. Reports
// are edited copies of kept ones, so that each verdict is known beforehand,
// and real quick runs; never a speed. Bad usage: bench-usage.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Report } from '../../native-bench/model';
import type { Comparison } from '../../native-bench/report/compare';
import type { Summary } from '../../native-bench/stats';
import { packageRoot } from '../../src/package-root';
import { assertEndOfRun } from '../support/bench-output';
import { runStrata } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

const RESULTS = path.join(packageRoot(), 'native-bench', 'results');
/** Unpack figures of 3 repetitions, from before reports recorded max. */
const KEPT = path.join(RESULTS, 'zstd-3rep', 'bench.json');
const FILES = ['compare.json', 'compare.md', 'compare.txt'];
const VERDICTS = ['faster', 'slower', 'within noise', 'indicative'];

/** A summary whose every sample is `value`. */
const all = (value: number, n = 3): Summary => ({ n, mean: value, stddev: 0, p50: value, p90: value, p99: value, min: value });

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

describe('strata bench --compare and --baseline', { timeout: 600_000 }, () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-bench-compare-'));
  after(() => tearDown(workDir, []));

  it('--compare: each figure of B against A, with what only one has and where the machines differ', async () => {
    const a = readJson<Report>(KEPT);
    const [fast, slow, same, few, gone, renamed] = a.measurements;
    const b: Report = {
      ...a,
      machine: { ...a.machine, kernel: 'Linux 9.9.9' },
      measurements: [
        { ...fast, seconds: all(fast.seconds.min / 2) },
        { ...slow, seconds: all(slow.seconds.p99 * 2) },
        same,
        { ...few, seconds: all(few.seconds.min / 2, 1) },
        { ...renamed, arm: 'an arm A does not have' },
        ...a.measurements.slice(6),
      ],
    };
    const bFile = path.join(workDir, 'b.json');
    fs.writeFileSync(bFile, JSON.stringify(b));
    const out = path.join(workDir, 'compared');

    const run = await runStrata(['bench', '--compare', KEPT, bFile, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.deepEqual(fs.readdirSync(out).sort(), FILES);
    const text = fs.readFileSync(path.join(out, 'compare.txt'), 'utf8');
    assert.ok(run.stdout.startsWith(`${text}\n`), run.stdout);
    assertEndOfRun(run.stdout.slice(text.length + 1), out, { summary: false });
    assert.match(text, new RegExp(`^The machines differ in kernel: ${a.machine.kernel}, then Linux 9\\.9\\.9$`, 'm'));

    const comparison = readJson<Comparison>(path.join(out, 'compare.json'));
    assert.deepEqual([comparison.old.report, comparison.new.report], [KEPT, bFile]);
    assert.deepEqual(comparison.differences, [{ of: 'machine', name: 'kernel', old: a.machine.kernel, new: 'Linux 9.9.9' }]);
    const verdict = (arm: string, subject: string, compression?: string) =>
      comparison.figures.find((f) => f.arm === arm && f.subject === subject && f.compression === compression)?.verdict;
    assert.equal(verdict(fast.arm, fast.subject, fast.compression), 'faster');
    assert.equal(verdict(slow.arm, slow.subject, slow.compression), 'slower');
    assert.equal(verdict(same.arm, same.subject, same.compression), 'within noise');
    assert.equal(verdict(few.arm, few.subject, few.compression), 'indicative');
    assert.deepEqual(comparison.removed.map((f) => f.arm), [gone.arm, renamed.arm]);
    assert.deepEqual(comparison.added.map((f) => f.arm), ['an arm A does not have']);
    assert.equal(comparison.figures.length, a.measurements.length - 2);
    assert.match(fs.readFileSync(path.join(out, 'compare.md'), 'utf8'), /^\| group \| subject \| arm \| figure \| old \| new \| new\/old \| samples \| verdict \|$/m);

    // With --json stdout is the comparison alone, and the note goes to stderr.
    const json = await runStrata(['bench', '--compare', KEPT, bFile, '--out', out, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), comparison);
    assertEndOfRun(json.stderr, out, { summary: false });
  });

  it('--compare of two kept runs of different groups matches the figures they share', async () => {
    const [mixed, firstPulls] = ['mixed-1.7.13', 'first-pulls-1.7.13'].map((run) => path.join(RESULTS, run, 'bench.json'));
    const run = await runStrata(['bench', '--compare', mixed, firstPulls, '--json', '--out', path.join(workDir, 'kept')]);
    assert.equal(run.code, 0, run.stderr);
    const comparison = JSON.parse(run.stdout) as Comparison;
    assert.ok(comparison.figures.length > 0, 'no figure in both');
    for (const f of comparison.figures) {
      assert.equal(f.group, 'containerd', `${f.arm}: only the containerd group is in both`);
      assert.ok(VERDICTS.includes(f.verdict) && Number.isFinite(f.ratio), `${f.arm} on ${f.subject}: ${f.verdict}, ${f.ratio}`);
    }
    // Only the mixed run has the unpack arms.
    assert.ok(comparison.removed.some((f) => f.group === 'unpack'));
  });

  it('--baseline compares a quick run with an earlier one, and --compare of the two reports gives the same figures', async () => {
    // The commands docs/bench.md shows, run where it says, with a --work of the test's own.
    const cwd = path.join(workDir, 'docs');
    fs.mkdirSync(cwd);
    const work = ['--work', path.join(workDir, 'work')];
    const quick = ['bench', '--quick', '--groups', 'snapshots,content', '--repetitions', '3', ...work];
    const before = await runStrata([...quick, '--out', 'before'], { cwd });
    assert.equal(before.code, 0, before.stderr);

    const run = await runStrata([...quick, '--baseline', 'before/bench.json', '--out', 'after', '--json'], { cwd });
    assert.equal(run.code, 0, run.stderr);
    const out = path.join(cwd, 'after');
    const written = fs.readdirSync(out).sort();
    for (const name of ['bench.json', 'bench.txt', ...FILES]) assert.ok(written.includes(name), `${name} not in ${written.join(', ')}`);
    assertEndOfRun(run.stderr, out, { work: path.join(workDir, 'work') });
    const comparison = JSON.parse(run.stdout) as Comparison;
    assert.deepEqual(comparison, readJson(path.join(out, 'compare.json')));
    assert.deepEqual([comparison.old.report, comparison.new.report], ['before/bench.json', path.join(out, 'bench.json')]);
    // The same machine and options: nothing to say about either.
    assert.deepEqual(comparison.differences, []);
    assert.deepEqual([comparison.added, comparison.removed], [[], []]);
    // Snapshot rounds by target, depth (1, 16) and clients (1, 8); content write and read by target and writers (1, 4).
    assert.equal(comparison.figures.filter((f) => f.group === 'snapshots').length, 8);
    assert.equal(comparison.figures.filter((f) => f.group === 'content').length, 8);
    for (const f of comparison.figures) {
      // Three repetitions a side, each recorded with its spread: a verdict, whichever it is.
      assert.deepEqual([f.oldSamples, f.newSamples], [3, 3], `${f.arm} ${f.subject} ${f.figure}`);
      assert.ok(['faster', 'slower', 'within noise'].includes(f.verdict), `${f.arm} ${f.subject} ${f.figure}: ${f.verdict}`);
    }

    const compared = await runStrata(['bench', '--compare', 'before/bench.json', 'after/bench.json', '--out', 'comparison'], { cwd });
    assert.equal(compared.code, 0, compared.stderr);
    const again = readJson<Comparison>(path.join(cwd, 'comparison', 'compare.json'));
    assert.deepEqual(again.figures, comparison.figures);
  });
});
