// The real flow, end to end: images pushed with skopeo into Debian's
// docker-registry, pulled by containerd 1.6 (`ctr images pull`) with strata
// as its only content store and as the snapshotter, run with runc, and
// strata restarted under a running containerd. containerd is configured
// from the shipped config/containerd-1.6.toml.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { mountPrintedCommands, mountsUnder } from '../../native-bench/harness/mounts';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { shippedConfigFor } from '../../native-bench/harness/shipped-configs';
import { dir, file, symlink } from '../support/tar-entries';
import { tearDown } from '../support/teardown';
import { diffTrees, formatDifferences, readTree } from '../support/tree';

describe('pull, run and restart: containerd 1.6, a real registry, runc, strata as content store and snapshotter', { timeout: 300_000 }, () => {
  let workDir = '';
  let registry: Registry | undefined;
  let containerd: Containerd | undefined;
  let strata: Strata | undefined;
  let input: InputImage;
  let busybox: OciArchive;
  let root = '';
  let address = '';
  let logFile = '';

  const ctr = (args: string[]) => (containerd as Containerd).ctr(args);

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-pull-'));
    [input] = await generatedImages(workDir, 'whiteouts', ['gzip'], 0.02);
    busybox = await buildOciArchive({
      dir: workDir,
      imageName: 'strata-e2e/busybox:run',
      layers: [
        [
          dir('bin', { mode: 0o755 }),
          file('bin/busybox', await fs.promises.readFile('/bin/busybox'), { mode: 0o755 }),
          symlink('bin/sh', 'busybox'),
          dir('tmp', { mode: 0o1777 }),
        ],
      ],
    });
    registry = await startRegistry();
    await registry.push(input.layoutDir, 'strata-e2e/whiteouts:v1');
    await registry.push(busybox.archivePath, 'strata-e2e/busybox:run');
    root = path.join(workDir, 'strata-root');
    address = path.join(workDir, 'strata.sock');
    logFile = path.join(workDir, 'strata.log');
    strata = await startStrata({ root, address, backend: 'overlayfs', logFile });
    containerd = await startContainerd({}, { base: shippedConfigFor('containerd-1.6.toml', { socket: address, root }) });
  });

  after(() => tearDown(workDir, [() => containerd?.stop(), () => strata?.stop(), () => registry?.stop()]));

  const remote = (name: string) => `${(registry as Registry).host}/${name}`;

  async function mountTop(snapshotter: string, chainIds: string[]): Promise<string> {
    const target = path.join(workDir, 'views', snapshotter);
    await fs.promises.mkdir(target, { recursive: true });
    const printed = await ctr(['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, `pull-view-${snapshotter}`, chainIds[chainIds.length - 1]]);
    await mountPrintedCommands(printed, target);
    return target;
  }

  it('pulls through strata: the image is complete, and its tree is the one built-in overlayfs unpacks', async () => {
    const image = remote('strata-e2e/whiteouts:v1');
    await ctr(['images', 'pull', '--plain-http', '--snapshotter', 'strata', '--platform', 'linux/amd64', image]);
    const check = await ctr(['images', 'check']);
    const row = check.split('\n').find((line) => line.startsWith(image));
    assert.match(row ?? '', /complete \((\d+)\/\1\)/, check);
    // Every blob containerd fetched is in strata's store, readable through it.
    const manifest = JSON.parse(await ctr(['content', 'get', input.manifestDigest]));
    assert.equal(manifest.layers.length, input.layers.length);

    await ctr(['images', 'pull', '--plain-http', '--snapshotter', 'overlayfs', '--platform', 'linux/amd64', image]);
    const [strataTree, overlayTree] = [await readTree(await mountTop('strata', input.chainIds)), await readTree(await mountTop('overlayfs', input.chainIds))];
    assert.ok(strataTree.size > 10, `the tree has ${strataTree.size} entries`);
    const differences = diffTrees(strataTree, overlayTree, ['strata', 'built-in overlayfs']);
    assert.deepEqual(differences, [], formatDifferences(differences));
  });

  it('runs a container with runc on strata: it writes a file and reads it back', async () => {
    const image = remote('strata-e2e/busybox:run');
    await ctr(['images', 'pull', '--plain-http', '--snapshotter', 'strata', '--platform', 'linux/amd64', image]);
    const output = await ctr(['run', '--rm', '--snapshotter', 'strata', image, 'strata-e2e-run', '/bin/sh', '-c', 'echo written-on-strata > /tmp/probe && cat /tmp/probe && ls /bin/busybox']);
    assert.equal(output.trim(), 'written-on-strata\n/bin/busybox');
    // --rm removed the container's snapshot: only the image's layer is left.
    const active = (await ctr(['snapshots', '--snapshotter', 'strata', 'ls'])).split('\n').filter((line) => /\bActive\b/.test(line));
    assert.deepEqual(active, []);
  });

  it('restarts under a running containerd: SIGTERM with containerd connected, readiness, and the gap containerd sees', async (t) => {
    const digest = busybox.layerDigests[0];
    await ctr(['content', 'get', digest]);
    const stopping = Date.now();
    await (strata as Strata).stop();
    const stopMs = Date.now() - stopping;
    assert.deepEqual(await mountsUnder(root), [], 'no mounts are left under the root');

    const starting = Date.now();
    strata = await startStrata({ root, address, backend: 'overlayfs', logFile });
    const readyMs = Date.now() - starting;
    // containerd learns of the new socket by its reconnect backoff.
    let failures = 0;
    for (;;) {
      try {
        await ctr(['content', 'get', digest]);
        break;
      } catch (err) {
        assert.match((err as Error).message, /unavailable|connection|transport/i);
        failures++;
        await sleep(50);
      }
    }
    const gapMs = Date.now() - starting;
    t.diagnostic(`exit on SIGTERM with containerd connected: ${stopMs} ms; socket ready ${readyMs} ms after start; containerd served again ${gapMs} ms after start (${failures} failed reads)`);
    assert.ok(gapMs < 10_000, `containerd reached strata again ${gapMs} ms after the restart`);
    // The pulled image is intact after the restart.
    const image = remote('strata-e2e/busybox:run');
    const output = await ctr(['run', '--rm', '--snapshotter', 'strata', image, 'strata-e2e-rerun', '/bin/sh', '-c', 'echo again']);
    assert.equal(output.trim(), 'again');
  });
});
