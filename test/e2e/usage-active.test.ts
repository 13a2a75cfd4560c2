// CRI's stats loop asks for the Usage of every active snapshot every 10 s
// (stats_collect_period), and an active snapshot is measured on disk each
// time: a container's rootfs may hold 100,000 files. The walk must not hold
// up any other call while it runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { Cleanup, startStrataServer, writableDirOf, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';

const DIRECTORIES = 100;
const FILES_PER_DIRECTORY = 1000;

describe('Usage of an active snapshot with 100,000 files', { timeout: 300_000 }, () => {
  let workDir = '';
  let server: StrataServer;
  const cleanup = new Cleanup();

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-usage-'));
    server = await startStrataServer(workDir, 'strata', 'overlayfs');
    cleanup.defer('stop strata', () => server.stop());
    await server.snapshots.prepare('base-active', '');
    await server.snapshots.commit('base', 'base-active');
    // A container's rootfs: an active snapshot on a parent, written through its upper dir.
    const upper = writableDirOf(await server.snapshots.prepare('rootfs', 'base'));
    for (let d = 0; d < DIRECTORIES; d++) {
      const dir = path.join(upper, `d${d}`);
      fs.mkdirSync(dir);
      for (let f = 0; f < FILES_PER_DIRECTORY; f++) fs.writeFileSync(path.join(dir, `f${f}`), 'x');
    }
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  it('is measured on disk, and other calls are answered while it runs', async (t) => {
    for (let round = 1; round <= 3; round++) {
      const started = process.hrtime.bigint();
      let usageDone = false;
      const usage = unaryCall<object, { size: number; inodes: number }>(server.client.snapshots, 'Usage', { snapshotter: 'strata', key: 'rootfs' }).finally(() => {
        usageDone = true;
      });
      // Stats one after another for as long as the Usage call is out.
      const statMs: number[] = [];
      while (!usageDone) {
        const sent = process.hrtime.bigint();
        await server.snapshots.stat('base');
        if (!usageDone) statMs.push(Number(process.hrtime.bigint() - sent) / 1e6);
      }
      const result = await usage;
      const usageMs = Number(process.hrtime.bigint() - started) / 1e6;
      // Every file and directory, and the upper dir itself.
      assert.equal(result.inodes, DIRECTORIES * FILES_PER_DIRECTORY + DIRECTORIES + 1);
      assert.ok(result.size >= DIRECTORIES * FILES_PER_DIRECTORY * 4096, `${result.size} bytes`);
      t.diagnostic(
        `round ${round}: Usage of ${result.inodes} inodes took ${usageMs.toFixed(1)} ms; ${statMs.length} Stat calls answered meanwhile, the slowest in ${Math.max(...statMs).toFixed(1)} ms`,
      );
      // A walk on the event loop would answer nothing until it was done.
      assert.ok(statMs.length >= 3, `only ${statMs.length} Stat calls were answered while Usage ran for ${usageMs.toFixed(1)} ms`);
    }
  });
});
