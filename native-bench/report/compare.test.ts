import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContentScenario, Machine, Report, SnapshotScenario, SummarisedMeasurement } from '../model';
import { summarize, type Summary } from '../stats';
import { compareReports, type ComparedFigure } from './compare';
import { comparisonMarkdown, comparisonText } from './compare-tables';

const MACHINE: Machine = { host: 'vm', cpu: 'AMD EPYC', cores: 2, memoryGiB: 24, kernel: 'Linux 6.1', filesystem: 'ext4', node: 'v20.20.2', containerd: '1.7.13', go: '1.19.8' };

function report(parts: Partial<Report> = {}): Report {
  return { format: 1, startedAt: '2026-12-01T10:00:00.000Z', seconds: 60, machine: MACHINE, options: { scale: 1, repetitions: 3, images: ['multi-layer'] }, measurements: [], snapshots: [], content: [], ratios: [], ...parts };
}

/** Arm names are made up: the comparison knows none. */
const measurement = (arm: string, seconds: number[], compression = 'gzip'): SummarisedMeasurement => ({ group: 'unpack', arm, subject: 'multi-layer', compression, seconds: summarize(seconds), phases: {} });

/** A summary as reports before max wrote it. */
function withoutMax(summary: Summary): Summary {
  const { max: _max, ...rest } = summary;
  return rest;
}

const snapshot = (p50Ms: number, perRepetition?: number[]): SnapshotScenario => ({
  target: 'strata',
  depth: 16,
  clients: 8,
  operations: {},
  round: { p50Ms, p90Ms: p50Ms * 2, p99Ms: p50Ms * 3, opsPerSecond: 100 },
  roundP50MsPerRepetition: perRepetition && summarize(perRepetition),
});

const content = (write: number[], read: number[]): ContentScenario => ({ target: 'containerd', writers: 4, blobMiB: 128, writeMiBPerSecond: summarize(write), readMiBPerSecond: summarize(read) });

const names = { old: 'old.json', new: 'new.json' };
const byArm = (figures: ComparedFigure[], arm: string) => figures.find((f) => f.arm === arm);

test('a time whose samples all fall below the old ones is faster, above them slower, and overlapping ranges are noise', () => {
  const old = report({ measurements: [measurement('arm a', [10, 11, 12]), measurement('arm b', [10, 11, 12]), measurement('arm c', [10, 11, 12]), measurement('arm d', [10, 11, 12])] });
  const now = report({ measurements: [measurement('arm a', [7, 8, 9]), measurement('arm b', [13, 14, 15]), measurement('arm c', [6, 9, 11]), measurement('arm d', [12, 13, 14])] });
  const { figures } = compareReports(old, now, names);
  assert.deepEqual(byArm(figures, 'arm a'), { group: 'unpack', arm: 'arm a', subject: 'multi-layer', compression: 'gzip', figure: 'p50 s', old: 11, new: 8, ratio: 8 / 11, verdict: 'faster', oldSamples: 3, newSamples: 3 });
  assert.equal(byArm(figures, 'arm b')?.verdict, 'slower');
  // A range that only reaches into the other's is noise, however far the p50 moved.
  assert.equal(byArm(figures, 'arm c')?.verdict, 'within noise');
  // Ranges that touch overlap.
  assert.equal(byArm(figures, 'arm d')?.verdict, 'within noise');
});

test('fewer than three samples on either side is indicative, however far apart', () => {
  const old = report({ measurements: [measurement('one', [10]), measurement('two', [10, 11]), measurement('three', [10, 11, 12])] });
  const now = report({ measurements: [measurement('one', [1, 1, 1]), measurement('two', [50, 51, 52]), measurement('three', [1, 2])] });
  const { figures } = compareReports(old, now, names);
  assert.deepEqual(
    figures.map((f) => [f.arm, f.verdict, f.oldSamples, f.newSamples]),
    [
      ['one', 'indicative', 1, 3],
      ['two', 'indicative', 2, 3],
      ['three', 'indicative', 3, 2],
    ],
  );
});

test('a report from before max was recorded is judged by p99, the greatest of its samples', () => {
  const old = report({ measurements: [measurement('arm', [10, 11, 12])].map((m) => ({ ...m, seconds: withoutMax(m.seconds) })) });
  assert.equal(compareReports(old, report({ measurements: [measurement('arm', [12.5, 13, 14])] }), names).figures[0].verdict, 'slower');
  assert.equal(compareReports(old, report({ measurements: [measurement('arm', [11.5, 13, 14])] }), names).figures[0].verdict, 'within noise');
  // From 100 samples on, p99 is not the greatest: without max there is no range.
  const many = Array.from({ length: 100 }, (_, i) => 10 + i / 100);
  const hundred = report({ measurements: [{ ...measurement('arm', many), seconds: withoutMax(summarize(many)) }] });
  assert.equal(compareReports(hundred, report({ measurements: [measurement('arm', [50, 51, 52])] }), names).figures[0].verdict, 'indicative');
});

test('throughput that rose is faster; a snapshot round is judged by the spread of its repetitions, and without one is indicative', () => {
  const old = report({ snapshots: [snapshot(4, [3.9, 4, 4.2])], content: [content([100, 110, 120], [500, 510, 520])] });
  const now = report({ snapshots: [snapshot(3, [2.9, 3, 3.1])], content: [content([130, 140, 150], [300, 310, 320])] });
  const { figures } = compareReports(old, now, names);
  assert.deepEqual(
    figures.map((f) => [f.group, f.arm, f.subject, f.figure, f.verdict]),
    [
      ['snapshots', 'strata', 'depth 16, 8 clients', 'round p50 ms', 'faster'],
      ['content', 'containerd', '4 writers', 'write p50 MiB/s', 'faster'],
      ['content', 'containerd', '4 writers', 'read p50 MiB/s', 'slower'],
    ],
  );
  const older = report({ snapshots: [snapshot(4)] });
  const [round] = compareReports(older, now, names).figures;
  assert.deepEqual([round.verdict, round.old, round.new, round.oldSamples, round.newSamples], ['indicative', 4, 3, undefined, 3]);
});

test('figures are matched by group, arm, subject and compression: the rest are added or removed', () => {
  const old = report({ measurements: [measurement('kept', [1, 1, 1]), measurement('gone', [1, 1, 1]), measurement('kept', [2, 2, 2], 'zstd')] });
  const now = report({ measurements: [measurement('kept', [1, 1, 1]), measurement('new', [1, 1, 1]), measurement('kept', [2, 2, 2], 'none')] });
  const comparison = compareReports(old, now, names);
  assert.deepEqual(comparison.figures.map((f) => [f.arm, f.compression]), [['kept', 'gzip']]);
  assert.deepEqual(comparison.added.map((f) => [f.arm, f.compression]), [['new', 'gzip'], ['kept', 'none']]);
  assert.deepEqual(comparison.removed.map((f) => [f.arm, f.compression]), [['gone', 'gzip'], ['kept', 'zstd']]);
  // A summary of no samples (NaN, null in JSON) is no figure.
  const empty = report({ measurements: [measurement('kept', [])] });
  assert.deepEqual(compareReports(old, empty, names).figures, []);
});

test('the machines and the options that change what a figure means are compared; the host and what picks the figures are not', () => {
  const old = report();
  const now = report({
    machine: { ...MACHINE, host: 'other', kernel: 'Linux 6.18', filesystem: 'tmpfs\ntmpfs' },
    options: { scale: 0.02, repetitions: 3, images: ['whiteouts'], dropCaches: true },
  });
  const comparison = compareReports(old, now, names);
  assert.deepEqual(comparison.differences, [
    { of: 'machine', name: 'kernel', old: 'Linux 6.1', new: 'Linux 6.18' },
    { of: 'machine', name: 'filesystem', old: 'ext4', new: 'tmpfs\ntmpfs' },
    { of: 'options', name: 'scale', old: 1, new: 0.02 },
    { of: 'options', name: 'dropCaches', old: undefined, new: true },
  ]);
  const text = comparisonText(comparison);
  assert.match(text, /^The machines differ in kernel: Linux 6\.1, then Linux 6\.18$/m);
  assert.match(text, /^The machines differ in filesystem: ext4, then tmpfs tmpfs$/m);
  assert.match(text, /^The options differ in scale: 1, then 0\.02$/m);
  assert.match(text, /^The options differ in dropCaches: not recorded, then true$/m);
  assert.match(text, /^So these figures compare machines or settings, not only code\.$/m);
  assert.doesNotMatch(comparisonText(compareReports(old, report(), names)), /differ|not only code/);
});

test('the tables: every figure in both with its verdict, then what only one run has, as text and as Markdown', () => {
  const old = report({ measurements: [measurement('arm a', [10, 11, 12]), measurement('gone', [1])] });
  const now = report({ measurements: [measurement('arm a', [7, 8, 9]), measurement('new', [1])], startedAt: '2026-12-02T10:00:00.000Z' });
  const comparison = compareReports(old, now, names);
  const text = comparisonText(comparison);
  assert.equal(text.split('\n')[0], 'strata bench: new.json (2026-12-02T10:00:00.000Z) against old.json (2026-12-01T10:00:00.000Z)');
  assert.match(text, /^1 figures in both: 1 faster, 0 slower, 0 within noise, 0 indicative; 1 only in the new run, 1 only in the old\.$/m);
  assert.match(text, /^group +subject +arm +figure +old +new +new\/old +samples +verdict$/m);
  assert.match(text, /^unpack +multi-layer gzip +arm a +p50 s +11\.0 +8\.00 +0\.727 +3\/3 +faster$/m);
  assert.match(text, /^Only in the new run \(added\): new\.json\ngroup +subject +arm +figure\nunpack +multi-layer gzip +new +p50 s$/m);
  assert.match(text, /^Only in the old run \(removed\): old\.json\ngroup +subject +arm +figure\nunpack +multi-layer gzip +gone +p50 s$/m);
  const markdown = comparisonMarkdown(comparison);
  assert.match(markdown, /^\| group \| subject \| arm \| figure \| old \| new \| new\/old \| samples \| verdict \|\n\|---\|---\|---\|---\|---:\|---:\|---:\|---:\|---\|$/m);
  assert.match(markdown, /^\| unpack \| multi-layer gzip \| arm a \| p50 s \| 11\.0 \| 8\.00 \| 0\.727 \| 3\/3 \| faster \|$/m);
  // Each line of the preamble is a paragraph of its own.
  assert.match(markdown, /^strata bench: new\.json .*\n\nA figure is faster or slower only when/);
});
