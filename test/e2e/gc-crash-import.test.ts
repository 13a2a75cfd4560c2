// SIGKILL strata in the middle of a real containerd import of a large
// generated image (hundreds of MB, over 10,000 files), with strata as the
// snapshotter and the only content store. After a restart containerd imports
// the same image again, the unpacked tree is identical, file by file, to an
// import into containerd's built-in overlayfs, and deleting the image then
// leaves nothing in strata.
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { connect, type StrataClient } from '../../src/client/connect';
import { listAll } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import { diffTrees, readTree } from '../support/tree';

const execFileAsync = promisify(execFile);

describe('strata killed in the middle of a containerd import', { timeout: 600_000 }, () => {
  let workDir = '';
  let image: InputImage;
  let strata: Strata | undefined;
  let withStrata: Containerd | undefined;
  let builtIn: Containerd | undefined;
  let client: StrataClient | undefined;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-crash-import-'));
    [image] = await generatedImages(workDir, 'multi-layer', ['gzip'], 0.45);
    const socket = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root: path.join(workDir, 'strata-root'), address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log') });
    withStrata = await startContainerd({ strata: socket }, { proxyContentStores: { 'strata-content': socket }, disabledPlugins: ['io.containerd.content.v1.content'], garbageCollection: 'on-deletion', parentDir: workDir });
    builtIn = await startContainerd({}, { parentDir: workDir });
    client = connect(socket);
  });

  after(() => tearDown(workDir, [() => client?.close(), () => withStrata?.stop(), () => builtIn?.stop(), () => strata?.stop()]));

  async function mountTop(containerd: Containerd, snapshotter: string, name: string): Promise<string> {
    const target = path.join(workDir, 'views', name);
    await fs.promises.mkdir(target, { recursive: true });
    const printed = await containerd.ctr(['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, name, image.chainIds[image.chainIds.length - 1]]);
    await mountPrintedCommands(printed, target);
    return target;
  }

  it('imports again after a restart, unpacks exactly what containerd does, and deletes to nothing', async () => {
    assert.ok((image.entries ?? 0) > 10_000 && image.uncompressedSize > 200e6, `the image is large enough (${image.entries} entries, ${image.uncompressedSize} bytes)`);
    const containerd = withStrata as Containerd;
    const importArgs = ['--address', containerd.address, '-n', containerd.namespace, 'images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', image.archive];
    const importing = spawn('ctr', importArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => importing.once('exit', resolve));
    // Killed once the unpack has begun: the blobs are in, some layers applied, others not.
    const live = client as StrataClient;
    for (let waited = 0; (await listAll(live, 'snapshots').catch(() => [])).length < 2; waited += 20) {
      assert.ok(waited < 120_000, 'the import never reached its unpack');
      await sleep(20);
    }
    const options = (strata as Strata).options;
    process.kill((strata as Strata).pid, 'SIGKILL');
    strata = undefined;
    assert.notEqual(await exited, 0, 'the import finished before strata was killed');

    strata = await startStrata(options);
    for (let attempt = 0; ; attempt++) {
      try {
        await containerd.ctr(['images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', image.archive]);
        break;
      } catch (error) {
        // containerd reconnects to the restarted proxy with a backoff of up to 3 s.
        if (attempt >= 10 || !/Unavailable|connection|transport/i.test(String(error))) throw error;
        await sleep(500);
      }
    }
    await (builtIn as Containerd).ctr(['images', 'import', '--platform', 'linux/amd64', image.archive]);
    const differences = diffTrees(
      await readTree(await mountTop(containerd, 'strata', 'crash-strata')),
      await readTree(await mountTop(builtIn as Containerd, 'overlayfs', 'crash-built-in')),
      ['strata after the crash', "containerd's overlayfs"],
    );
    assert.deepEqual(differences, []);

    // Delete: the views first (unmounted), then the image; then one collection.
    for (const name of ['crash-strata', 'crash-built-in']) await execFileAsync('umount', [path.join(workDir, 'views', name)]);
    await containerd.ctr(['snapshots', '--snapshotter', 'strata', 'rm', 'crash-strata']);
    await containerd.ctr(['images', 'rm', '--sync', image.reference]);
    assert.deepEqual(await listAll(live, 'snapshots'), [], 'snapshots left in strata');
    assert.deepEqual(await listAll(live, 'content'), [], 'blobs left in strata');
    const ingests = await fs.promises.readdir(path.join(options.root, 'content', 'ingest')).catch(() => []);
    assert.deepEqual(ingests, [], 'ingests left in strata');
  });
});
