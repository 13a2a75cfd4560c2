// End to end: strata's streams under a slow disk, a client that gives up, a
// broken layer and a full disk. The bug report's layer (Debian's static
// busybox, `zstd -3`) applies through the Diff service onto a FUSE
// filesystem whose every write takes milliseconds, and comes out identical to
// the gzip apply of the same tar. Every failure ends the call with its
// status, leaves no file open in the server, no temporary mount or directory
// behind, and the server serving.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../../src/client/connect';
import { packageRoot } from '../../src/package-root';
import { newFds, openFds } from '../../src/testing/fds';
import { withDeadline } from '../../src/testing/streams';
import { corruptedInTheMiddle } from '../support/malicious-layers';
import { mountsUnder } from '../../native-bench/harness/mounts';
import { startServer, stopServer, type ServerProcess } from '../../native-bench/harness/processes';
import {
  applyLayer,
  grpcCode,
  readBlob,
  sha256,
  startApply,
  startStrataServer,
  writeBlob,
  type StrataServer,
  type WireDescriptor,
  type WireMount,
} from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import { diffTrees, readTree } from '../support/tree';

const execFileAsync = promisify(execFile);

const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MiB = 1024 * 1024;
const CODES = { CANCELLED: 1, INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8 };

/** The slow disk's FUSE daemon, from the source tree. */
const SLOW_FS = path.join(packageRoot(), 'test/support/slow-fs.py');
/** Per write, and FUSE writes 4 KiB at a time: busybox's 2 MB take about a second. */
const SLOW_WRITE_MS = 2;

interface Layer {
  tar: Buffer;
  descriptor: WireDescriptor;
}

const FOREIGN_MOUNTS = '[diff]\nforeign_mounts = true\n';

function bindMount(dir: string): WireMount[] {
  return [{ type: 'bind', source: dir, options: ['rbind', 'rw'] }];
}

/** A FUSE passthrough of `backing` at `mountPoint` whose writes are slow. */
async function mountSlowFs(backing: string, mountPoint: string, logFile: string): Promise<ServerProcess> {
  await fs.promises.mkdir(backing, { recursive: true });
  await fs.promises.mkdir(mountPoint, { recursive: true });
  const daemon = startServer('/usr/bin/python3', [SLOW_FS, backing, mountPoint, String(SLOW_WRITE_MS)], logFile);
  for (let waited = 0; !(await mountsUnder(mountPoint)).includes(mountPoint); waited += 50) {
    if (waited > 10_000 || daemon.child.exitCode !== null) throw new Error(`slow-fs did not mount:\n${daemon.logTail()}`);
    await sleep(50);
  }
  return daemon;
}

describe('Diff.Apply and Content streams on a slow disk, with cancels, broken layers and a full disk', { timeout: 180_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  let slowFs: ServerProcess | undefined;
  let zstdLayer: Layer;
  let gzipLayer: Layer;
  let dirs = 0;

  const strata = () => server as StrataServer;

  /** A fresh empty directory to apply into. */
  async function freshDir(name: string): Promise<string> {
    const dir = path.join(workDir, `${name}-${dirs++}`);
    await fs.promises.mkdir(dir);
    return dir;
  }

  async function upload(tar: Buffer, compress: string[], mediaType: string): Promise<Layer> {
    const file = path.join(workDir, `layer-${sha256(tar).slice(7, 19)}`);
    await fs.promises.writeFile(file, tar);
    const { stdout } = await execFileAsync(compress[0], [...compress.slice(1), '-c', file], { encoding: 'buffer', maxBuffer: 64 * MiB });
    const digest = await writeBlob(strata().client.content, stdout);
    return { tar, descriptor: { media_type: mediaType, digest, size: stdout.length } };
  }

  /**
   * The server's own files, its scratch mounts and directories are as they
   * were before: waits a little, since a cancelled call is cleaned up when
   * the cancel reaches the server.
   */
  async function assertReleased(baseline: string[], what: string): Promise<void> {
    let leaked = newFds(baseline, openFds(strata().strata.pid));
    for (let waited = 0; leaked.length > 0 && waited < 3_000; waited += 50) {
      await sleep(50);
      leaked = newFds(baseline, openFds(strata().strata.pid));
    }
    assert.deepEqual(leaked, [], `${what}: strata kept files open`);
    assert.deepEqual(await mountsUnder(strata().root), [], `${what}: strata left a mount behind`);
    assert.deepEqual(await fs.promises.readdir(path.join(strata().root, 'tmp')).catch(() => []), [], `${what}: strata left a temporary directory`);
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-streams-'));
    // The layers go into plain directories, a slow disk and a tmpfs, not snapshots.
    server = await startStrataServer(workDir, 'strata', 'native', FOREIGN_MOUNTS);
    const tarFile = path.join(workDir, 'busybox.tar');
    await execFileAsync('tar', ['-C', '/', '-cf', tarFile, 'bin/busybox']);
    const tar = await fs.promises.readFile(tarFile);
    zstdLayer = await upload(tar, ['zstd', '-3', '-q'], ZSTD);
    gzipLayer = await upload(tar, ['gzip'], GZIP);
    slowFs = await mountSlowFs(path.join(workDir, 'slow-backing'), path.join(workDir, 'slow'), path.join(workDir, 'slow-fs.log'));
    // A first Apply and Read open what strata keeps open for good (the database's WAL).
    await applyLayer(strata().client.diff, gzipLayer.descriptor, bindMount(await freshDir('warm-up')));
    await readBlob(strata().client.content, gzipLayer.descriptor.digest);
  });

  after(() =>
    tearDown(workDir, [
      () => server?.stop(),
      // tearDown unmounted the FUSE filesystem first, which ends its daemon.
      async () => {
        if (slowFs) await stopServer(slowFs, 'SIGTERM', 10_000);
      },
    ]),
  );

  it('applies the zstd busybox layer onto a disk slower than zstd, identical to the gzip apply', async () => {
    const reference = await freshDir('gzip');
    const fromGzip = await applyLayer(strata().client.diff, gzipLayer.descriptor, bindMount(reference));
    const slow = path.join(workDir, 'slow', 'zstd');
    await fs.promises.mkdir(slow);
    const started = Date.now();
    // A stall shows as this deadline, not as the whole suite's timeout.
    const applying = applyLayer(strata().client.diff, zstdLayer.descriptor, bindMount(slow));
    const fromZstd = await withDeadline(applying, 60_000, () => 'the zstd apply onto the slow disk');
    const took = Date.now() - started;
    assert.ok(took > 500, `the slow disk was not slow: the apply took ${took} ms`);
    assert.equal(fromZstd.digest, sha256(zstdLayer.tar));
    assert.equal(fromGzip.digest, fromZstd.digest);
    // What reached the disk under the FUSE layer, compared with the plain apply.
    const differences = diffTrees(await readTree(reference), await readTree(path.join(workDir, 'slow-backing', 'zstd')), ['gzip', 'zstd on slow disk']);
    assert.deepEqual(differences, []);
  });

  it('a client that cancels Apply mid-stream stops it: nothing stays open or mounted, and the server goes on', async () => {
    const baseline = openFds(strata().strata.pid);
    const target = path.join(workDir, 'slow', 'cancelled');
    await fs.promises.mkdir(target);
    const call = startApply(strata().client.diff, zstdLayer.descriptor, bindMount(target));
    await sleep(300);
    call.cancel();
    await assert.rejects(call.result, (err) => grpcCode(err) === CODES.CANCELLED);
    await assertReleased(baseline, 'cancelled Apply');
    const written = path.join(workDir, 'slow-backing', 'cancelled', 'bin', 'busybox');
    const size = (await fs.promises.stat(written)).size;
    await sleep(300);
    assert.equal((await fs.promises.stat(written)).size, size, 'strata went on writing after the cancel');
    assert.ok(size < zstdLayer.tar.length, 'the apply finished before the cancel; the test proves nothing');
    const again = await applyLayer(strata().client.diff, zstdLayer.descriptor, bindMount(await freshDir('after-cancel')));
    assert.equal(again.digest, sha256(zstdLayer.tar));
  });

  it('a layer corrupt halfway is InvalidArgument, with everything released', async () => {
    // Read first: strata keeps the files of blobs it has read open for later Reads.
    const compressed = await readBlob(strata().client.content, zstdLayer.descriptor.digest);
    const baseline = openFds(strata().strata.pid);
    const broken = corruptedInTheMiddle(compressed, 64);
    const digest = await writeBlob(strata().client.content, broken);
    const descriptor = { media_type: ZSTD, digest, size: broken.length };
    await assert.rejects(applyLayer(strata().client.diff, descriptor, bindMount(await freshDir('corrupt'))), (err) => {
      assert.equal(grpcCode(err), CODES.INVALID_ARGUMENT, String(err));
      return true;
    });
    await assertReleased(baseline, 'corrupt layer');
  });

  it('Apply onto a full disk is ResourceExhausted, and its temporary mount goes', async () => {
    const baseline = openFds(strata().strata.pid);
    // Not a bind mount, so strata mounts it on a temporary directory of its own.
    const tiny: WireMount[] = [{ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }];
    await assert.rejects(applyLayer(strata().client.diff, zstdLayer.descriptor, tiny), (err) => {
      assert.equal(grpcCode(err), CODES.RESOURCE_EXHAUSTED, String(err));
      return true;
    });
    await assertReleased(baseline, 'full disk');
  });

  it('a client that cancels Read mid-stream gets Cancelled, and the blob is released: deleting it closes its file', async () => {
    const big = Buffer.alloc(24 * MiB, 7);
    big.write('a blob bigger than the stream buffers');
    const digest = await writeBlob(strata().client.content, big);
    const baseline = openFds(strata().strata.pid);
    const content = strata().client.content as unknown as { Read(request: object): grpc.ClientReadableStream<{ data: Buffer }> };
    const call = content.Read({ digest, offset: 0, size: 0 });
    await assert.rejects(
      (async () => {
        for await (const message of call) {
          assert.ok(message.data.length > 0);
          call.cancel();
        }
      })(),
      (err) => grpcCode(err) === CODES.CANCELLED,
    );
    assert.ok((await readBlob(strata().client.content, digest)).equals(big));
    // The file stays open for later Reads until the blob goes; a Read that
    // never released it would keep it open past the Delete.
    await unaryCall(strata().client.content, 'Delete', { digest });
    await assertReleased(baseline, 'cancelled Read');
  });

  it('Write onto a full disk is ResourceExhausted; what was stored stays intact and the space comes back', async () => {
    const fullRoot = path.join(workDir, 'full-root');
    await fs.promises.mkdir(fullRoot);
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', fullRoot]);
    const full = await startStrataServer(workDir, 'full', 'native');
    try {
      const kept = Buffer.alloc(MiB, 1);
      const keptDigest = await writeBlob(full.client.content, kept);
      const tooBig = Buffer.alloc(32 * MiB, 2);
      await assert.rejects(writeBlob(full.client.content, tooBig, { ref: 'too-big' }), (err) => {
        assert.equal(grpcCode(err), CODES.RESOURCE_EXHAUSTED, String(err));
        return true;
      });
      assert.ok((await readBlob(full.client.content, keptDigest)).equals(kept), 'a stored blob changed');
      // The ingest is kept, as with any failed write, until it is aborted.
      await unaryCallWithRetry(full, 'Abort', { ref: 'too-big' });
      const after = Buffer.alloc(MiB, 3);
      assert.equal(await writeBlob(full.client.content, after), sha256(after));
    } finally {
      await full.stop();
      await execFileAsync('umount', [fullRoot]);
    }
  });
});

/** The ref is released when the failed stream's cancel reaches the server; until then it is busy. */
async function unaryCallWithRetry(server: StrataServer, method: string, request: object): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await unaryCall(server.client.content, method, request);
      return;
    } catch (err) {
      if (grpcCode(err) !== 14 /* UNAVAILABLE */ || attempt > 50) throw err;
      await sleep(20);
    }
  }
}
