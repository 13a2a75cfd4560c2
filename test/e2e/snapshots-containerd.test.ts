// End to end: a real containerd 1.6 unpacks the edge-case image into strata
// (overlayfs and native backends, as proxy snapshotters) and into its own
// built-in snapshotters of the same kinds; the mounted results must be the
// same file for file, attribute for attribute.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tearDown } from '../support/teardown';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { EDGE_CASE_IMAGE, edgeCaseLayers, landmarkProblems } from '../support/edge-case-layers';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { startStrata, type Strata, type StrataBackend } from '../../native-bench/harness/strata';
import { diffTrees, formatDifferences, readTree, type Tree } from '../support/tree';

/** Each strata backend, by the proxy name containerd knows it as, next to the built-in it must match. */
const PAIRS: { proxy: string; backend: StrataBackend; builtIn: string }[] = [
  { proxy: 'strata', backend: 'overlayfs', builtIn: 'overlayfs' },
  { proxy: 'strata-native', backend: 'native', builtIn: 'native' },
];

/**
 * Where containerd 1.6's own overlayfs and native snapshotters disagree on the
 * edge-case image. A layer with an entry for a directory that a lower layer
 * already has: for native (plain directories) containerd's applier updates the
 * existing directory's owner, mode and time, keeping its xattrs; for
 * overlayfs it creates a new directory in the new upper layer, and that
 * directory, holding only the entry's own attributes, hides the lower one's
 * xattrs. Each strata backend must match its built-in counterpart, quirks
 * included.
 */
const BUILT_IN_DIFFERENCES = [
  `xattrs/redeclared: xattrs overlayfs=[] native=[["user.dir-note","0x${Buffer.from('set by the base layer').toString('hex')}"]]`,
];


describe('strata behind a real containerd 1.6', { timeout: 120_000 }, () => {
  let workDir = '';
  let image: OciArchive;
  let containerd: Containerd | undefined;
  const strata = new Map<string, Strata>();
  const strataStartErrors = new Map<string, unknown>();
  /** Tree of the image's top snapshot per snapshotter, read once, on first use. */
  const topTrees = new Map<string, Promise<Tree>>();

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-'));
    image = await buildOciArchive({ dir: workDir, imageName: EDGE_CASE_IMAGE, layers: edgeCaseLayers });
    const sockets: Record<string, string> = {};
    for (const { proxy, backend } of PAIRS) {
      const root = path.join(workDir, proxy);
      await fs.promises.mkdir(root);
      sockets[proxy] = path.join(workDir, `${proxy}.sock`);
      const options = { root, address: sockets[proxy], backend, logFile: path.join(workDir, `${proxy}.log`) };
      try {
        strata.set(proxy, await startStrata(options));
      } catch (error) {
        // Reported by the tests that need this server; the others still run.
        strataStartErrors.set(proxy, error);
      }
    }
    containerd = await startContainerd(sockets);
  });

  after(() =>
    tearDown(workDir, [
      () => containerd?.stop(),
      ...[...strata.values()].map((server) => () => server.stop()),
    ]),
  );

  /** The running strata behind `proxy`, or the error it failed to start with. */
  function strataFor(proxy: string): Strata {
    if (strataStartErrors.has(proxy)) throw strataStartErrors.get(proxy);
    const server = strata.get(proxy);
    assert.ok(server, `no strata was started for ${proxy}`);
    return server;
  }

  function ctr(args: string[]): Promise<string> {
    assert.ok(containerd, 'containerd is not running');
    return containerd.ctr(args);
  }

  /**
   * Makes a read-only view of the image's top layer and mounts it right away:
   * containerd's garbage collector deletes views that no lease holds (the
   * test's containerd defers collection, see containerd.ts).
   */
  async function mountTopView(snapshotter: string, viewName: string): Promise<string> {
    const target = path.join(workDir, 'views', snapshotter, viewName);
    await fs.promises.mkdir(target, { recursive: true });
    const top = image.chainIds[image.chainIds.length - 1];
    const printed = await ctr(['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, `e2e-${viewName}`, top]);
    await mountPrintedCommands(printed, target);
    return target;
  }

  function topTree(snapshotter: string): Promise<Tree> {
    let tree = topTrees.get(snapshotter);
    if (tree === undefined) {
      tree = (async () => {
        await ctr(['images', 'import', '--snapshotter', snapshotter, '--platform', 'linux/amd64', image.archivePath]);
        return readTree(await mountTopView(snapshotter, 'top'));
      })();
      topTrees.set(snapshotter, tree);
    }
    return tree;
  }

  /** `ctr snapshots ls` rows (KEY PARENT KIND), whitespace-normalised and sorted. */
  async function listSnapshots(snapshotter: string): Promise<string[]> {
    const output = await ctr(['snapshots', '--snapshotter', snapshotter, 'ls']);
    return output
      .split('\n')
      .slice(1)
      .map((row) => row.trim().split(/\s+/).join(' '))
      .filter((row) => row !== '')
      .sort();
  }

  it("(fixture check) containerd's own overlayfs and native differ only where known", async () => {
    const overlay = await topTree('overlayfs');
    const native = await topTree('native');
    for (const tree of [overlay, native]) assert.deepEqual(landmarkProblems(tree), []);
    assert.deepEqual(diffTrees(overlay, native, ['overlayfs', 'native']), BUILT_IN_DIFFERENCES);
  });

  for (const { proxy, backend, builtIn } of PAIRS) {
    it(`unpacks the edge-case image with the ${backend} backend exactly as containerd's ${builtIn} does`, async () => {
      strataFor(proxy); // fails with the startup error if this backend's server did not start
      const expected = await topTree(builtIn);
      const actual = await topTree(proxy);
      const differences = diffTrees(expected, actual, [builtIn, proxy]);
      assert.deepEqual(differences, [], formatDifferences(differences, Infinity));
      assert.deepEqual(landmarkProblems(actual), []);
    });
  }

  it('keeps its snapshots across a restart', async () => {
    const { proxy } = PAIRS[0];
    const server = strataFor(proxy);
    const treeBefore = await topTree(proxy);
    const snapshotsBefore = await listSnapshots(proxy);
    for (const chainId of image.chainIds) {
      assert.ok(snapshotsBefore.some((row) => row.startsWith(`${chainId} `)), `${chainId} missing from ${proxy}`);
    }

    await server.stop();
    strata.set(proxy, await startStrata(server.options));

    // containerd's connection to the proxy is in reconnect backoff after the
    // restart and fails requests fast until it is back, so allow it a moment.
    let snapshotsAfter: string[] | undefined;
    for (let attempt = 1; snapshotsAfter === undefined; attempt++) {
      try {
        snapshotsAfter = await listSnapshots(proxy);
      } catch (error) {
        if (attempt >= 40) throw error;
        await sleep(250);
      }
    }
    assert.deepEqual(snapshotsAfter, snapshotsBefore);

    const treeAfter = await readTree(await mountTopView(proxy, 'after-restart'));
    const differences = diffTrees(treeBefore, treeAfter, ['before restart', 'after restart']);
    assert.deepEqual(differences, [], formatDifferences(differences, Infinity));
  });
});
