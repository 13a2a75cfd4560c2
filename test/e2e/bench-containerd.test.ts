// `strata bench --containerd BIN --snapshotter ...` runs the containerd arms
// with that containerd, once per snapshotter named, and says which
// containerd it was: its version and its snapshotters' plugins are the
// report's, and every arm has its figures for every snapshotter, pull to
// first container and removal included. By default BIN is Debian's
// containerd, named by its path; STRATA_CONTAINERD_BIN_DIR (a directory
// with containerd and ctr, such as a 1.7 built from containerd's
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
const SNAPSHOTTERS = ['overlayfs', 'native', 'btrfs', 'strata'];

describe(`strata bench --containerd ${CONTAINERD} --snapshotter ${SNAPSHOTTERS.join(',')}`, { timeout: 300_000 }, () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-containerd-'));
  after(() => tearDown(workDir, []));

  it('runs every containerd arm with that containerd for every snapshotter, and reports its version', async () => {
    const args = ['bench', '--quick', '--json', '--groups', 'containerd', '--images', 'whiteouts', '--compressions', 'gzip', '--containerd', CONTAINERD, '--snapshotter', SNAPSHOTTERS.join(',')];
    const run = spawnSync(process.execPath, [STRATA_CLI, ...args, '--work', path.join(workDir, 'work'), '--out', path.join(workDir, 'out')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, `strata bench failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    const version = await containerdVersion(CONTAINERD);
    assert.equal(report.machine.containerd, version);
    // The stack as containerd described it: every snapshotter loaded, btrfs on the bench's own btrfs under --work.
    assert.equal(report.stack.containerd.server, version);
    assert.deepEqual(report.stack.snapshotters.map((p: { id: string; status: string }) => `${p.id} ${p.status}`), SNAPSHOTTERS.map((name) => `${name} ok`));
    assert.equal(report.stack.snapshotters[2].exports.root, path.join(workDir, 'work', 'containerd', 'btrfs'));
    assert.equal(report.options.containerd, CONTAINERD);
    const expected = SNAPSHOTTERS.flatMap((name) => [ARM.ctrImport(name, true), ARM.ctrImport(name, false), ARM.ctrPull(name), ARM.firstContainer(name), ARM.secondNamespacePull(name), ARM.removal(name)]);
    const arms = report.measurements.map((m: { arm: string }) => m.arm);
    assert.deepEqual([...arms].sort(), [...expected, ARM.ctrPullMirror].sort());
    for (const m of report.measurements) assert.ok(m.subject === 'whiteouts' && m.seconds.n === 1 && Number.isFinite(m.seconds.p50), `${m.arm}: no figure`);
    // Every snapshotter over overlayfs, the reference.
    for (const name of ['native', 'btrfs', 'strata']) {
      for (const kind of ['ctr import', 'ctr pull', 'pull to first container', 'pull into a second namespace', 'remove and collect']) {
        assert.ok(report.ratios.some((r: { kind: string }) => r.kind === `${kind}: ${name} / overlayfs`), `no ratio ${kind}: ${name} / overlayfs`);
      }
    }
  });
});
