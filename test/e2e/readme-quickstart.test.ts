// The README's five-minute try, run as a newcomer runs it: its shell blocks,
// taken from README.md itself and run in order in one bash at the top of the
// checkout, so that the README and what works cannot drift apart. It must
// serve a private containerd, import and run the example image, inspect it,
// and clean up after itself: nothing left running, mounted or on disk.
// The tools' inspect example runs too; the bench example is the command
// bench-quick.test.ts runs, and the serve example is what the try runs.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mountsUnder } from '../../native-bench/harness/mounts';
import { packageRoot } from '../../src/package-root';
import { tearDown } from '../support/teardown';

const execFileAsync = promisify(execFile);

/** The `sh` blocks of the README section under `heading`, in order. */
function shellBlocks(heading: string): string[] {
  const readme = fs.readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README.md has no "## ${heading}" section`);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** Processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ps', ['-eo', 'pid,args', '--no-headers']);
  return stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

describe("the README's five-minute try, from the README", { timeout: 900_000 }, () => {
  let tmp = '';

  before(async () => {
    // mktemp -d makes the try's directory here, where the test can watch it.
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-readme-'));
  });

  after(() => tearDown(tmp, []));

  it('serves a private containerd, imports and runs the image, inspects it, and leaves nothing behind', async (t) => {
    const blocks = shellBlocks('Try it in five minutes');
    assert.ok(blocks.length >= 3, `the try has ${blocks.length} shell blocks`);
    const started = Date.now();
    const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', blocks.join('\n')], {
      cwd: packageRoot(),
      env: { ...process.env, TMPDIR: tmp },
      timeout: 600_000,
      maxBuffer: 64 << 20,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`the README's try failed: ${error.message}\n--- stdout ---\n${error.stdout}\n--- stderr ---\n${error.stderr}`);
    });
    t.diagnostic(`the try took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.match(stdout, /^hello from strata$/m, 'the container ran');
    assert.match(stdout, /^platform\s+linux\//m, 'inspect printed the image');
    assert.match(stdout, /^0 .* ok\s*$/m, "inspect checked the layer's diff ID");
    assert.deepEqual(await fs.promises.readdir(tmp), [], 'the try removed its directory');
    assert.deepEqual(await mountsUnder(tmp), []);
    assert.deepEqual(await processesMentioning(tmp), [], 'strata or containerd still running');
  });

  it("the tools' inspect example", async () => {
    const [inspect] = shellBlocks('The tools').filter((block) => block.includes(' inspect '));
    assert.ok(inspect, 'the tools section has an inspect example');
    const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', inspect], { cwd: packageRoot(), maxBuffer: 16 << 20 });
    assert.match(stdout, /bin\/busybox/);
  });
});
