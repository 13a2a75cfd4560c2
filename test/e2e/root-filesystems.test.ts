// A root on a filesystem where overlay mounts fail (here overlayfs itself,
// as in a container's own root; NFS and some FUSE filesystems do the same):
// the overlayfs backend refuses at start with one line saying what to do,
// and the native backend serves from the same place.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { STRATA_CLI, startStrata } from '../../native-bench/harness/strata';
import { tearDown } from '../support/teardown';

const execFileAsync = promisify(execFile);

describe('a root where overlay mounts fail', () => {
  let workDir = '';
  let root = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-rootfs-'));
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(workDir, d));
    for (const d of [lower, upper, work, merged]) await fs.promises.mkdir(d);
    await execFileAsync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    root = path.join(merged, 'strata');
  });

  after(() => tearDown(workDir, []));

  it('overlayfs: exit 1, one line naming the filesystem and the way out, and no socket left', async () => {
    const address = path.join(workDir, 'overlayfs.sock');
    const result = await execFileAsync(process.execPath, [STRATA_CLI, 'serve', '--root', root, '--address', address, '--backend', 'overlayfs'], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: String(error.stderr) }),
    );
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], new RegExp(`^strata: overlayfs does not work under ${root}, whose filesystem is overlay: .*; serve with --backend native, or put --root on a local filesystem such as ext4 or xfs$`));
    assert.equal(fs.existsSync(address), false);
  });

  it('native: serves from the same root', async () => {
    const address = path.join(workDir, 'native.sock');
    const strata = await startStrata({ root, address, backend: 'native', logFile: path.join(workDir, 'native.log') });
    await strata.stop();
  });
});
