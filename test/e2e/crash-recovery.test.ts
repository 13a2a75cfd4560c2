// Crash consistency: strata is killed with SIGKILL in the middle of a mixed
// workload (snapshots prepared, written, committed and removed; blobs written
// and committed; ingests left half-written), restarted on the same root, and
// checked: everything it acknowledged is there and intact, nothing it
// acknowledged as removed came back, the database is sound, and after
// Cleanup no directory or file is left that no record owns.
import * as assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../../src/client/connect';
import { startStrataServer, writableDirOf, writeBlob, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';

const ROUNDS = 6;

interface Acknowledged {
  /** Committed snapshot name → content of the file written into it. */
  snapshots: Map<string, string>;
  removed: Set<string>;
  /** Removes in flight when strata died: either outcome is right, but not a damaged snapshot. */
  maybeRemoved: Map<string, string>;
  blobs: Set<string>;
}

/** Leaves an ingest half-written: STAT and one WRITE, then the stream stays open. */
function startPartialIngest(content: grpc.Client, ref: string): grpc.ClientDuplexStream<object, object> {
  const call = (content as unknown as { Write(): grpc.ClientDuplexStream<object, object> }).Write();
  call.on('error', () => undefined);
  call.on('data', () => undefined);
  call.write({ action: 'STAT', ref, total: 1 << 20 });
  call.write({ action: 'WRITE', offset: 0, data: randomBytes(4096) });
  return call;
}

/** One client's work until the server dies; records only what strata acknowledged. */
async function workload(server: StrataServer, worker: string, ack: Acknowledged): Promise<void> {
  const committed: string[] = [];
  for (let i = 0; ; i++) {
    const name = `${worker}-${i}`;
    try {
      const parent = committed.length > 0 && i % 2 === 0 ? committed[committed.length - 1] : '';
      const mounts = await server.snapshots.prepare(`${name}-active`, parent);
      const body = `${name} ${randomBytes(8).toString('hex')}`;
      await fs.promises.writeFile(path.join(writableDirOf(mounts), `file-${name}`), body);
      await server.snapshots.commit(name, `${name}-active`);
      ack.snapshots.set(name, body);
      committed.push(name);
      if (i % 3 === 2) {
        const leaf = committed.shift() as string;
        const body = ack.snapshots.get(leaf) as string;
        ack.snapshots.delete(leaf);
        ack.maybeRemoved.set(leaf, body);
        try {
          await server.snapshots.remove(leaf);
          ack.removed.add(leaf);
        } catch (err) {
          // A parent of a later snapshot: containerd's FailedPrecondition, not a crash.
          if ((err as { code?: number }).code !== 9) throw err;
          ack.snapshots.set(leaf, body);
        }
        ack.maybeRemoved.delete(leaf);
      }
      ack.blobs.add(await writeBlob(server.client.content, randomBytes(64 * 1024 + (i % 7) * 150_000)));
      if (i % 4 === 0) startPartialIngest(server.client.content, `partial-${name}`);
    } catch {
      return; // the server was killed
    }
  }
}

function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

async function checkStore(server: StrataServer, ack: Acknowledged): Promise<void> {
  const db = new Database(path.join(server.root, 'metadata.db'), { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal((db.pragma('foreign_key_check') as unknown[]).length, 0, 'dangling references in metadata');

    const exists = (name: string) =>
      unaryCall(server.client.snapshots, 'Stat', { key: name }).then(
        () => true,
        (err: { code?: number }) => {
          if (err.code === 5) return false;
          throw err;
        },
      );
    for (const [name, body] of ack.maybeRemoved) {
      if (await exists(name)) ack.snapshots.set(name, body);
      else ack.removed.add(name);
    }
    ack.maybeRemoved.clear();
    for (const [name, body] of ack.snapshots) {
      const mounts = await server.snapshots.view(`verify-${name}`, name);
      const dirs = mounts.flatMap((m) =>
        m.type === 'bind' ? [m.source] : (m.options.find((o) => o.startsWith('lowerdir='))?.slice(9).split(':') ?? []),
      );
      const found = dirs.map((d) => path.join(d, `file-${name}`)).find((f) => fs.existsSync(f));
      assert.ok(found, `acknowledged snapshot ${name} lost its file`);
      assert.equal(fs.readFileSync(found, 'utf8'), body, `snapshot ${name} has different content`);
      await server.snapshots.remove(`verify-${name}`);
    }
    for (const name of ack.removed) assert.equal(await exists(name), false, `${name} came back`);

    const blobs = db.prepare('SELECT digest, size FROM blobs').all() as { digest: string; size: number }[];
    const stored = new Set(blobs.map((b) => b.digest));
    for (const digest of ack.blobs) assert.ok(stored.has(digest), `acknowledged blob ${digest} is lost`);
    for (const { digest, size } of blobs) {
      const file = path.join(server.root, 'content/blobs/sha256', digest.slice('sha256:'.length));
      assert.equal(fs.statSync(file).size, size, `blob ${digest} has the wrong size`);
      assert.equal(sha256File(file), digest, `blob ${digest} is corrupt`);
    }
    // The directory appears with the first committed blob; a kill may come before that.
    const blobsDir = path.join(server.root, 'content/blobs/sha256');
    const blobFiles = (fs.existsSync(blobsDir) ? fs.readdirSync(blobsDir) : []).map((hex) => `sha256:${hex}`);
    assert.deepEqual(blobFiles.sort(), [...stored].sort(), 'blob files and blob records differ');

    const ingests = db.prepare('SELECT dir FROM ingests').all() as { dir: string }[];
    const ingestDirs = fs.readdirSync(path.join(server.root, 'content/ingest'));
    assert.deepEqual(ingestDirs.sort(), ingests.map((i) => i.dir).sort(), 'ingest dirs and ingest records differ');

    await unaryCall(server.client.snapshots, 'Cleanup', {});
    const ids = (db.prepare('SELECT id FROM snapshots').all() as { id: number }[]).map((r) => String(r.id));
    const snapshotDirs = fs.readdirSync(path.join(server.root, 'snapshots'));
    assert.deepEqual(snapshotDirs.sort(), ids.sort(), 'after Cleanup, snapshot dirs and snapshot records differ');
    for (const id of ids) assert.ok(fs.existsSync(path.join(server.root, 'snapshots', id, 'fs')), `snapshot ${id} has no fs/`);
  } finally {
    db.close();
  }
}

describe('strata killed mid-workload restarts consistent', { timeout: 180_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  after(() => tearDown(workDir, [() => server?.stop()]));

  it(`survives ${ROUNDS} SIGKILLs at varying moments`, async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-crash-'));
    const ack: Acknowledged = { snapshots: new Map(), removed: new Set(), maybeRemoved: new Map(), blobs: new Set() };
    for (let round = 0; round < ROUNDS; round++) {
      server = await startStrataServer(workDir, 'crash', 'overlayfs');
      if (round > 0) await checkStore(server, ack);
      const work = ['a', 'b', 'c'].map((w) => workload(server as StrataServer, `${round}${w}`, ack));
      await sleep(150 + round * 110);
      process.kill(server.strata.pid, 'SIGKILL');
      await Promise.all(work);
      server.client.close();
    }
    server = await startStrataServer(workDir, 'crash', 'overlayfs');
    await checkStore(server, ack);
    assert.ok(ack.snapshots.size > 10 && ack.blobs.size > 10, `the workload did too little: ${ack.snapshots.size} snapshots, ${ack.blobs.size} blobs`);
  });
});
