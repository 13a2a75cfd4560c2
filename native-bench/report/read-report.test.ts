import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import { UsageError } from '../../src/usage-error';
import { REPORT_FORMAT } from '../model';
import { readReport } from './read-report';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-read-report-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const results = path.join(packageRoot(), 'native-bench', 'results');
const kept = [path.join(results, 'bench.json'), ...['disk-run', 'snapshots-content', 'zstd-3rep'].map((run) => path.join(results, run, 'bench.json'))];

function written(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Rejects as a failure (exit 1), not as bad usage, with this message. */
async function refused(file: string, message: RegExp): Promise<void> {
  await assert.rejects(readReport(file), (err: Error) => {
    assert.ok(!(err instanceof UsageError), `${err.message}: bad usage, not a failure`);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

test('the reports kept in native-bench/results, from before the format field, read as format 1', async () => {
  for (const file of kept) assert.equal((await readReport(file)).format, REPORT_FORMAT, file);
});

test('a path that cannot be read is bad usage', async () => {
  await assert.rejects(readReport(path.join(dir, 'missing.json')), (err) => err instanceof UsageError && /^--from \S+missing\.json: no such file$/.test(err.message));
  await assert.rejects(readReport(dir), (err) => err instanceof UsageError && /: a directory, not a report$/.test(err.message));
});

test('what is not JSON, or JSON that is not a report, fails naming what is wrong', async () => {
  await refused(written('text.json', 'strata\nbench\n'), /^--from \S+: not JSON \(Unexpected token .*\); give the bench\.json of an earlier strata bench$/);
  await refused(written('list.json', [1, 2]), /not a strata bench report \(not a JSON object\)$/);
  await refused(written('package.json', { name: 'some-other', version: '1.0.0' }), /not a strata bench report \(report\.startedAt is missing\)$/);
  const report = JSON.parse(fs.readFileSync(kept[3], 'utf8'));
  delete report.measurements[2].seconds.p50;
  await refused(written('damaged.json', report), /not a strata bench report \(report\.measurements\[2\]\.seconds\.p50 is missing\)$/);
  report.measurements[2].seconds.p50 = '1.5';
  await refused(written('string.json', report), /report\.measurements\[2\]\.seconds\.p50 is not a number\)$/);
});

test('a report in another format is refused, naming both formats', async () => {
  const report = { ...JSON.parse(fs.readFileSync(kept[3], 'utf8')), format: REPORT_FORMAT + 1 };
  await refused(written('next.json', report), new RegExp(`a report in format ${REPORT_FORMAT + 1}, from another version of strata; this strata bench reads format ${REPORT_FORMAT} \\(run it again to get one\\)$`));
});

test('the stack a run recorded reads back, and one without its snapshotters is refused', async () => {
  const stack = { containerd: { client: '1.6.20~ds1', server: '1.7.13' }, snapshotters: [{ id: 'overlayfs', status: 'ok', exports: { root: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' } }] };
  const report = { ...JSON.parse(fs.readFileSync(kept[3], 'utf8')), stack };
  assert.deepEqual((await readReport(written('stack.json', report))).stack, stack);
  await refused(written('no-snapshotters.json', { ...report, stack: { containerd: stack.containerd } }), /not a strata bench report \(report\.stack\.snapshotters is missing\)$/);
});

test("a report from before --snapshotter reads with its built-in arms and ratios named overlayfs, as a run names them now", async () => {
  const file = path.join(results, 'first-pulls-disk-1.7.13', 'bench.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(raw.measurements.some((m: { arm: string }) => m.arm === 'ctr import built-in --no-unpack'));
  const report = await readReport(file);
  const arms = report.measurements.map((m) => m.arm);
  assert.ok(arms.includes('ctr import overlayfs --no-unpack') && arms.includes('pull to first container overlayfs') && arms.includes('ctr pull strata'));
  assert.ok(!arms.some((arm) => arm.includes('built-in')));
  assert.ok(report.ratios.some((r) => r.kind === 'ctr pull: strata / overlayfs'));
  assert.ok(!report.ratios.some((r) => r.kind.includes('built-in')));
});
