// End to end: strata's Diff service applies the edge-case image's layers,
// uploaded to its own content store, into snapshots prepared by its own
// Snapshots service, exactly as containerd 1.7+ drives a remote differ. The
// mounted result must be the same, file for file and attribute for attribute,
// as containerd 1.6's own unpack of the same image archive, for every layer
// compression and both backends.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tearDown } from '../support/teardown';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { EDGE_CASE_IMAGE, edgeCaseLayers, landmarkProblems } from '../support/edge-case-layers';
import { mountPrintedCommands, unmountAllUnder } from '../../native-bench/harness/mounts';
import { buildOciArchive, type LayerCompression, type OciArchive } from '../support/oci-archive';
import { readArchiveLayers, type ArchiveLayer } from '../support/oci-archive-reader';
import type { StrataBackend } from '../../native-bench/harness/strata';
import {
  applyLayer,
  Cleanup,
  mountAll,
  startStrataServer,
  withLog,
  writableDirOf,
  writeBlob,
} from '../support/strata-grpc';
import { diffTrees, formatDifferences, readTree, type Tree } from '../support/tree';

const execFileAsync = promisify(execFile);

const COMPRESSIONS: LayerCompression[] = ['gzip', 'zstd', 'none'];
/** Each strata backend is compared with containerd's built-in snapshotter of the same name. */
const BACKENDS: StrataBackend[] = ['overlayfs', 'native'];

const UNCOMPRESSED_TAR = 'application/vnd.oci.image.layer.v1.tar';

/**
 * Media types other than the one in the manifest under which a layer of each
 * compression must still be applied: Docker's names, and one strata has to
 * sniff the compression for.
 */
const OTHER_MEDIA_TYPES: Record<LayerCompression, string[]> = {
  gzip: ['application/octet-stream', 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
  zstd: ['application/octet-stream'],
  none: ['application/octet-stream', 'application/vnd.docker.image.rootfs.diff.tar'],
};

interface Image {
  archive: OciArchive;
  layers: ArchiveLayer[];
}



describe('Diff.Apply on strata against containerd 1.6 unpacking the same image', { timeout: 150_000 }, () => {
  let workDir = '';
  let containerd: Containerd | undefined;
  const images = new Map<LayerCompression, Image>();
  const cleanup = new Cleanup();
  /** containerd's unpack of an image, per compression and snapshotter, read once. */
  const referenceTrees = new Map<string, Promise<Tree>>();

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-diff-apply-'));
    for (const compression of COMPRESSIONS) {
      const dir = path.join(workDir, `image-${compression}`);
      await fs.promises.mkdir(dir);
      const archive = await buildOciArchive({ dir, imageName: EDGE_CASE_IMAGE, layers: edgeCaseLayers, compression });
      images.set(compression, { archive, layers: await readArchiveLayers(archive.archivePath) });
    }
    containerd = await startContainerd();
    const running = containerd;
    cleanup.defer('stop containerd', () => running.stop());
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  function image(compression: LayerCompression): Image {
    const found = images.get(compression);
    assert.ok(found, `the ${compression} image was not built`);
    return found;
  }

  /** ctr in a namespace of its own per compression, so containerd unpacks each image afresh. */
  async function ctr(namespace: string, args: string[]): Promise<string> {
    assert.ok(containerd, 'containerd is not running');
    try {
      const { stdout } = await execFileAsync('ctr', ['--address', containerd.address, '-n', namespace, ...args], {
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
      throw new Error(`ctr -n ${namespace} ${args.join(' ')} failed: ${stderr}`);
    }
  }

  /** containerd 1.6 imports and unpacks the image with its own snapshotter; the top layer's view, read. */
  function referenceTree(compression: LayerCompression, snapshotter: StrataBackend): Promise<Tree> {
    const key = `${compression}/${snapshotter}`;
    let tree = referenceTrees.get(key);
    if (tree === undefined) {
      tree = (async () => {
        const { archive } = image(compression);
        const namespace = `strata-e2e-apply-${compression}`;
        await ctr(namespace, ['images', 'import', '--snapshotter', snapshotter, '--platform', 'linux/amd64', archive.archivePath]);
        const target = path.join(workDir, 'containerd-views', compression, snapshotter);
        await fs.promises.mkdir(target, { recursive: true });
        const top = archive.chainIds[archive.chainIds.length - 1];
        const printed = await ctr(namespace, ['snapshots', '--snapshotter', snapshotter, 'view', '--target', target, `view-${compression}`, top]);
        await mountPrintedCommands(printed, target);
        return readTree(target);
      })();
      referenceTrees.set(key, tree);
    }
    return tree;
  }

  it('(fixture check) every compression carries the same uncompressed layers', () => {
    const [first, ...others] = COMPRESSIONS.map((compression) => image(compression));
    for (const other of others) {
      assert.deepEqual(other.archive.diffIds, first.archive.diffIds);
      assert.deepEqual(other.layers.map((layer) => layer.diffId), first.archive.diffIds);
    }
    assert.deepEqual(first.layers.map((layer) => layer.diffId), first.archive.diffIds);
    assert.equal(first.layers.length, edgeCaseLayers.length);
  });

  for (const compression of COMPRESSIONS) {
    for (const backend of BACKENDS) {
      it(`applies the ${compression} layers with the ${backend} backend exactly as containerd's ${backend} unpacks them`, async () => {
        const { archive, layers } = image(compression);
        const name = `strata-${backend}-${compression}`;
        const server = await startStrataServer(workDir, name, backend);
        cleanup.defer(`stop ${name}`, () => server.stop());

        for (const layer of layers) {
          const digest = await withLog(server, `Write of ${layer.digest}`, () => writeBlob(server.client.content, layer.blob));
          assert.equal(digest, layer.digest);
        }

        let parent = '';
        for (const [i, layer] of layers.entries()) {
          const key = `extract-${i}-${layer.digest}`;
          const mounts = await withLog(server, `Prepare ${key}`, () => server.snapshots.prepare(key, parent));
          const expectedType = backend === 'overlayfs' && parent !== '' ? 'overlay' : 'bind';
          assert.deepEqual(mounts.map((m) => m.type), [expectedType], `mounts of ${key}: ${JSON.stringify(mounts)}`);
          const applied = await withLog(server, `Apply of layer ${i} (${layer.mediaType})`, () =>
            // sync_fs is exercised with the uncompressed layers.
            applyLayer(server.client.diff, { media_type: layer.mediaType, digest: layer.digest, size: layer.size }, mounts, compression === 'none'),
          );
          assert.equal(applied.digest, layer.diffId, `layer ${i}: applied digest is not the config's diff ID`);
          assert.equal(applied.size, layer.uncompressedSize, `layer ${i}: applied size is not the uncompressed size`);
          assert.equal(applied.media_type, UNCOMPRESSED_TAR, `layer ${i}: applied media type`);
          await withLog(server, `Commit ${archive.chainIds[i]}`, () => server.snapshots.commit(archive.chainIds[i], key));
          parent = archive.chainIds[i];
        }

        const viewMounts = await withLog(server, 'View of the top layer', () => server.snapshots.view('top-view', parent));
        const target = path.join(workDir, 'strata-views', name);
        await mountAll(viewMounts, target);
        const actual = await readTree(target);
        const expected = await referenceTree(compression, backend);
        const differences = diffTrees(expected, actual, [`containerd-${backend}`, name]);
        assert.deepEqual(differences, [], formatDifferences(differences));
        assert.deepEqual(landmarkProblems(actual), []);
        assert.deepEqual(landmarkProblems(expected), []);

        await unmountAllUnder(target);
        await server.stop();
      });
    }
  }

  for (const compression of COMPRESSIONS) {
    it(`applies a ${compression} base layer under other media types, sniffing the unknown one`, async () => {
      const { layers } = image(compression);
      const [base] = layers;
      const name = `strata-sniff-${compression}`;
      const server = await startStrataServer(workDir, name, 'overlayfs');
      cleanup.defer(`stop ${name}`, () => server.stop());
      await withLog(server, 'Write of the base layer', () => writeBlob(server.client.content, base.blob));

      for (const [i, mediaType] of OTHER_MEDIA_TYPES[compression].entries()) {
        const key = `sniffed-${i}`;
        const mounts = await server.snapshots.prepare(key, '');
        const applied = await withLog(server, `Apply as ${mediaType}`, () =>
          applyLayer(server.client.diff, { media_type: mediaType, digest: base.digest, size: base.size }, mounts),
        );
        assert.equal(applied.digest, base.diffId, `${mediaType}: applied digest`);
        assert.equal(applied.size, base.uncompressedSize, `${mediaType}: applied size`);
        assert.equal(applied.media_type, UNCOMPRESSED_TAR);
        const root = writableDirOf(mounts);
        assert.equal(await fs.promises.readFile(path.join(root, 'etc/hostname'), 'utf8'), 'strata-e2e\n');
        assert.equal((await fs.promises.lstat(path.join(root, 'dev/null'))).isCharacterDevice(), true);
        await server.snapshots.remove(key);
      }
      await server.stop();
    });
  }
});
