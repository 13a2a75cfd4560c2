// `strata bench --quick` runs every arm of the suite on a small subset and
// writes its report. This asserts that it ran and that what it wrote is
// whole and well-formed; never a speed. Bad usage: bench-usage.test.ts.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ARM } from '../../native-bench/arm-names';
import { STRATA_CLI } from '../../native-bench/harness/strata';
import { assertEndOfRun } from '../support/bench-output';
import { tearDown } from '../support/teardown';

describe('strata bench --quick', { timeout: 600_000 }, () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-quick-'));
  after(() => tearDown(workDir, []));

  it('runs every group and writes the JSON report, the tables, the chart and the page', () => {
    const out = path.join(workDir, 'out');
    const run = spawnSync(process.execPath, [STRATA_CLI, 'bench', '--quick', '--json', '--work', path.join(workDir, 'work'), '--out', out], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    assert.equal(run.status, 0, `strata bench --quick failed: ${run.stderr}`);
    const printed = JSON.parse(run.stdout);
    const written = JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8'));
    assert.deepEqual(printed, written);
    const groups = new Set(written.measurements.map((m: { group: string }) => m.group));
    assert.deepEqual([...groups].sort(), ['containerd', 'decompress', 'unpack']);
    assert.ok(written.snapshots.length > 0 && written.content.length > 0 && written.ratios.length > 0);
    for (const m of written.measurements) assert.ok(m.seconds.n >= 1 && Number.isFinite(m.seconds.p50), `${m.arm} on ${m.subject}: no figure`);
    // Pull to first container, into each default snapshotter, for every input, and its ratio.
    const subjects = new Set(written.measurements.map((m: { subject: string; compression: string }) => `${m.subject} ${m.compression}`));
    for (const subject of subjects) {
      for (const snapshotter of ['overlayfs', 'strata']) {
        const arm = ARM.firstContainer(snapshotter);
        assert.ok(written.measurements.some((m: { arm: string; subject: string; compression: string }) => m.arm === arm && `${m.subject} ${m.compression}` === subject), `${arm} on ${subject}: no figure`);
      }
      assert.ok(written.ratios.some((r: { kind: string; subject: string }) => r.kind === 'pull to first container: strata / overlayfs' && r.subject === subject), `no pull-to-first-container ratio for ${subject}`);
    }
    // Layers in parallel: whiteouts has two layers; the Apply of the one above took its early unpack.
    for (const compression of ['gzip', 'zstd']) {
      const parallel = written.measurements.find((m: { arm: string; subject: string; compression: string }) => m.arm === ARM.strataApplyParallel('overlayfs') && m.subject === 'whiteouts' && m.compression === compression);
      assert.equal(parallel?.layersUnpackedEarly, 1, `whiteouts ${compression}: the layer above was not unpacked early`);
      assert.ok(written.ratios.some((r: { kind: string; subject: string }) => r.kind === 'apply overlayfs: layers in parallel / one after another' && r.subject === `whiteouts ${compression}`));
    }
    // Each sample says how long the machine waited for I/O meanwhile, where the kernel tells.
    if (fs.existsSync('/proc/pressure/io')) for (const m of written.measurements) assert.ok(m.ioStallSeconds >= 0, `${m.arm} on ${m.subject}: no I/O stall figure`);
    assert.match(fs.readFileSync(path.join(out, 'bench.svg'), 'utf8'), /^<svg/);
    assert.match(fs.readFileSync(path.join(out, 'bench.md'), 'utf8'), /\| image \| arm \|/);
    assert.match(fs.readFileSync(path.join(out, 'bench.html'), 'utf8'), /^<!doctype html>/);
    // One quick repetition: every rendering says its figures are indicative, and no stddev is made up.
    const indicative = 'Indicative: 1 repetition (quick mode, 2 % scale); compare full runs of 3 or more repetitions';
    for (const name of ['bench.txt', 'bench.md', 'headline.md', 'bench.svg', 'bench.html']) assert.ok(fs.readFileSync(path.join(out, name), 'utf8').includes(indicative), `${name}: not said indicative`);
    assert.match(fs.readFileSync(path.join(out, 'bench.txt'), 'utf8'), /^whiteouts gzip\s+strata overlayfs\s+\d+\.\d\d\s+–\s/m);
    // stdout is the JSON alone; what it shows, what it is worth and where the files went are said on stderr.
    assert.ok(run.stderr.includes(`\n${indicative}.\n`), run.stderr);
    assertEndOfRun(run.stderr, out, { work: path.join(workDir, 'work') });
  });
});
