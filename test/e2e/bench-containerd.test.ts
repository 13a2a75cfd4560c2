// `strata bench --containerd BIN` runs the containerd arms with that
// containerd and says which it was: its version is the report's, and every
// arm has its figures, pull to first container included. By default BIN is
// Debian's containerd, named by its path; STRATA_CONTAINERD_BIN_DIR (a
// directory with containerd and ctr, such as a 1.7 built from containerd's
// repository) runs another, as for cri-kubernetes.test.ts. Never a speed.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ARM } from '../../native-bench/arm-names';
import { containerdVersion } from '../../native-bench/harness/containerd-version';
import { STRATA_CLI } from '../../native-bench/harness/strata';
import { tearDown } from '../support/teardown';

const CONTAINERD = path.join(process.env.STRATA_CONTAINERD_BIN_DIR ?? '/usr/bin', 'containerd');

describe(`strata bench --containerd ${CONTAINERD}`, { timeout: 300_000 }, () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-containerd-'));
  after(() => tearDown(workDir, []));

  it('runs every containerd arm with that containerd, and reports its version', async () => {
    const args = ['bench', '--quick', '--json', '--groups', 'containerd', '--images', 'whiteouts', '--compressions', 'gzip', '--containerd', CONTAINERD];
    const run = spawnSync(process.execPath, [STRATA_CLI, ...args, '--work', path.join(workDir, 'work'), '--out', path.join(workDir, 'out')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, `strata bench failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    assert.equal(report.machine.containerd, await containerdVersion(CONTAINERD));
    assert.equal(report.options.containerd, CONTAINERD);
    const expected = ['built-in', 'strata'].flatMap((label) => [ARM.ctrImport(label, true), ARM.ctrImport(label, false), ARM.ctrPull(label), ARM.firstContainer(label), ARM.secondNamespacePull(label)]);
    const arms = report.measurements.map((m: { arm: string }) => m.arm);
    assert.deepEqual([...arms].sort(), [...expected, ARM.ctrPullMirror].sort());
    for (const m of report.measurements) assert.ok(m.subject === 'whiteouts' && m.seconds.n === 1 && Number.isFinite(m.seconds.p50), `${m.arm}: no figure`);
    assert.ok(report.ratios.some((r: { kind: string }) => r.kind === 'pull to first container: strata / built-in'));
    assert.ok(report.ratios.some((r: { kind: string }) => r.kind === 'pull into a second namespace: strata / built-in'));
  });
});
