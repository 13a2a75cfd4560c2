// End to end: one layer of two million tiny entries, applied by strata's
// Diff.Apply on each backend. What the applier remembers per entry (to spot
// a path declared twice, to keep its own entries when an opaque marker comes
// late) must not grow the server past 300 MiB; the tree must be complete.
// The server's root is a tmpfs, so the test measures memory, not the disk.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { peakRssBytes, resetPeakRss, run } from '../../native-bench/system';
import type { StrataBackend } from '../../native-bench/harness/strata';
import { tearDown } from '../support/teardown';
import { applyLayer, sha256, startStrataServer, writableDirOf, writeBlob, type StrataServer } from '../support/strata-grpc';

const ENTRIES = Number(process.env.STRATA_MANY_ENTRIES ?? 2_000_000);
const PER_DIR = 1000;
const LIMIT_BYTES = 300 * 1024 * 1024;
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const MTIME = new Date('2022-02-02T02:02:02Z');

/** The layer: directories of PER_DIR empty files each, ENTRIES members in all, as zstd, and its tar's digest. */
async function manyEntriesLayer(): Promise<{ blob: Buffer; diffId: string }> {
  const packer = pack();
  const zstd = spawn('zstd', ['-q', '-3', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  zstd.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<void>((resolve, reject) =>
    zstd.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`zstd exited with ${code}`)))),
  );
  const hash = createHash('sha256');
  packer.on('data', (chunk) => hash.update(chunk as Buffer));
  packer.pipe(zstd.stdin);
  const none = Buffer.alloc(0);
  const add = (header: Parameters<typeof packer.entry>[0]) =>
    new Promise<void>((resolve, reject) => packer.entry(header, none, (error) => (error ? reject(error) : resolve())));
  let written = 0;
  for (let d = 0; written < ENTRIES; d++) {
    const dir = `d${String(d).padStart(5, '0')}`;
    await add({ name: dir, type: 'directory', mode: 0o755, mtime: MTIME });
    written++;
    for (let f = 0; f < PER_DIR - 1 && written < ENTRIES; f++, written++) {
      await add({ name: `${dir}/f${String(f).padStart(3, '0')}`, type: 'file', size: 0, mode: 0o644, mtime: MTIME });
    }
  }
  packer.finalize();
  await exited;
  return { blob: Buffer.concat(chunks), diffId: `sha256:${hash.digest('hex')}` };
}

describe(`Diff.Apply of one layer of ${ENTRIES.toLocaleString('en')} entries`, { timeout: 600_000 }, () => {
  let workDir = '';
  let tmpfs = '';
  let layer: { blob: Buffer; diffId: string };
  const servers: StrataServer[] = [];

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-many-'));
    tmpfs = path.join(workDir, 'tmpfs');
    await fs.promises.mkdir(tmpfs);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16g,nr_inodes=0', 'strata-e2e-many', tmpfs]);
    layer = await manyEntriesLayer();
  });

  // tearDown unmounts the tmpfs too.
  after(() => tearDown(workDir, servers.map((server) => () => server.stop())));

  for (const backend of ['overlayfs', 'native'] as StrataBackend[]) {
    it(`${backend}: the server stays under 300 MiB and every entry is there`, async (t) => {
      const server = await startStrataServer(tmpfs, backend, backend);
      servers.push(server);
      const digest = await writeBlob(server.client.content, layer.blob);
      assert.equal(digest, sha256(layer.blob));
      const mounts = await server.snapshots.prepare('many', '');
      resetPeakRss(server.strata.pid);
      const applied = await applyLayer(server.client.diff, { media_type: ZSTD, digest, size: layer.blob.length }, mounts);
      const peak = peakRssBytes(server.strata.pid);
      t.diagnostic(`${backend}: peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB for ${ENTRIES.toLocaleString('en')} entries`);
      assert.equal(applied.digest, layer.diffId);
      assert.ok(peak < LIMIT_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, over 300 MiB`);

      const dir = writableDirOf(mounts);
      const dirs = await fs.promises.readdir(dir);
      let found = dirs.length;
      for (const name of dirs) found += (await fs.promises.readdir(path.join(dir, name))).length;
      assert.equal(found, ENTRIES, 'entries in the snapshot');
      await server.snapshots.remove('many');
      await server.stop();
    });
  }
});
