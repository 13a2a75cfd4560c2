// Clients racing on the same snapshots and blobs. Each race has a set of
// outcomes a serial order of the same calls could give; anything else (two
// winners, a lost write, an error without a code, a leftover directory) is a
// failure. Each case starts its calls together and waits for all of them.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { status as Code } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import type { ReadResponse } from '../../src/client/content-messages';
import { gzip, rawTar } from '../support/malicious-layers';
import { applyLayer, grpcCode, readBlob, sha256, writeBlob } from '../support/strata-grpc';
import { file } from '../support/tar-entries';
import { suiteServer } from '../support/suite-server';

const MiB = 1024 * 1024;
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** The gRPC code each call ended with (OK for success). */
async function outcomes(calls: Promise<unknown>[]): Promise<Code[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((r) => {
    if (r.status === 'fulfilled') return Code.OK;
    const code = grpcCode(r.reason);
    assert.notEqual(code, undefined, `a call failed without a gRPC code: ${String(r.reason)}`);
    return code as Code;
  });
}

function count(codes: Code[], code: Code): number {
  return codes.filter((c) => c === code).length;
}

describe('races between clients', { timeout: 180_000 }, () => {
  const { server: s } = suiteServer('races', { base: true });
  const snapshotsDir = () => path.join(s().root, 'snapshots');
  /** Snapshot directories on disk: one per snapshot the server knows, nothing else. */
  const snapshotDirs = () => fs.readdirSync(snapshotsDir()).sort();
  const stat = (key: string) => unaryCall<object, { info: { kind: string; parent: string } }>(s().client.snapshots, 'Stat', { snapshotter: 'strata', key });

  it('16 clients Prepare one key: one wins, the others get AlreadyExists', async () => {
    const dirsBefore = snapshotDirs().length;
    const codes = await outcomes(Array.from({ length: 16 }, () => s().snapshots.prepare('contested', 'base')));
    assert.equal(count(codes, Code.OK), 1, String(codes));
    assert.equal(count(codes, Code.ALREADY_EXISTS), 15, String(codes));
    assert.equal(snapshotDirs().length, dirsBefore + 1, 'the losers left directories behind');
  });

  it('16 clients Commit to one name: one wins, the others keep their active snapshots', async () => {
    for (let i = 0; i < 16; i++) await s().snapshots.prepare(`committer-${i}`, 'base');
    const codes = await outcomes(Array.from({ length: 16 }, (_, i) => s().snapshots.commit('one-name', `committer-${i}`)));
    assert.equal(count(codes, Code.OK), 1, String(codes));
    assert.equal(count(codes, Code.ALREADY_EXISTS), 15, String(codes));
    const winner = codes.indexOf(Code.OK);
    for (let i = 0; i < 16; i++) {
      if (i === winner) await assert.rejects(stat(`committer-${i}`), (err) => grpcCode(err) === Code.NOT_FOUND);
      else assert.equal((await stat(`committer-${i}`)).info.kind, 'ACTIVE');
    }
    assert.equal((await stat('one-name')).info.kind, 'COMMITTED');
  });

  it('Remove of a parent races Prepare on it: exactly one of them wins', async () => {
    for (let round = 0; round < 10; round++) {
      await s().snapshots.prepare(`parent-${round}-active`, 'base');
      await s().snapshots.commit(`parent-${round}`, `parent-${round}-active`);
      const [removed, prepared] = await outcomes([s().snapshots.remove(`parent-${round}`), s().snapshots.prepare(`child-${round}`, `parent-${round}`)]);
      const serial = [
        [Code.OK, Code.NOT_FOUND],
        [Code.FAILED_PRECONDITION, Code.OK],
      ].map(String);
      assert.ok(serial.includes(String([removed, prepared])), `round ${round}: Remove ${Code[removed]}, Prepare ${Code[prepared]}`);
      if (prepared === Code.OK) assert.equal((await stat(`child-${round}`)).info.parent, `parent-${round}`);
    }
  });

  it('Commit and Remove of the same active snapshot: one wins, and the other sees it gone', async () => {
    for (let round = 0; round < 10; round++) {
      await s().snapshots.prepare(`both-${round}`, 'base');
      const [committed, removed] = await outcomes([s().snapshots.commit(`both-${round}-done`, `both-${round}`), s().snapshots.remove(`both-${round}`)]);
      const serial = [
        [Code.OK, Code.NOT_FOUND],
        [Code.NOT_FOUND, Code.OK],
      ].map(String);
      assert.ok(serial.includes(String([committed, removed])), `round ${round}: Commit ${Code[committed]}, Remove ${Code[removed]}`);
    }
  });

  it('Remove during Mounts, and during an Apply into the same snapshot', async () => {
    for (let round = 0; round < 10; round++) {
      await s().snapshots.prepare(`mounted-${round}`, 'base');
      const [mounts, removed] = await outcomes([s().snapshots.mounts(`mounted-${round}`), s().snapshots.remove(`mounted-${round}`)]);
      assert.equal(removed, Code.OK);
      assert.ok([Code.OK, Code.NOT_FOUND].includes(mounts), `Mounts ended ${Code[mounts]}`);
    }
    const blob = gzip(await rawTar(Array.from({ length: 100 }, (_, i) => file(`f-${i}`, Buffer.alloc(MiB, i)))));
    const digest = await writeBlob(s().client.content, blob);
    const dirsBefore = snapshotDirs();
    const target = await s().snapshots.prepare('applying', 'base');
    const applying = applyLayer(s().client.diff, { media_type: GZIP_LAYER, digest, size: blob.length }, target);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [applied, removed] = await outcomes([applying, s().snapshots.remove('applying')]);
    assert.equal(removed, Code.OK);
    assert.ok([Code.OK, Code.NOT_FOUND].includes(applied), `the Apply ended ${Code[applied]}`);
    await unaryCall(s().client.snapshots, 'Cleanup', { snapshotter: 'strata' });
    assert.deepEqual(snapshotDirs(), dirsBefore, 'the removed snapshot left a directory behind');
  });

  it('8 writers on different refs at once: every blob is stored whole', async () => {
    const blobs = Array.from({ length: 8 }, () => randomBytes(3 * MiB + 17));
    await Promise.all(blobs.map((b, i) => writeBlob(s().client.content, b, { ref: `parallel-${i}` })));
    for (const b of blobs) assert.ok((await readBlob(s().client.content, sha256(b))).equals(b));
  });

  it('Delete of a blob during its Read: the Read gets the whole blob or NotFound, and the blob is gone', async () => {
    for (let round = 0; round < 5; round++) {
      const blob = randomBytes(8 * MiB);
      const digest = await writeBlob(s().client.content, blob);
      const call = (s().client.content as unknown as { Read(r: object): grpc.ClientReadableStream<ReadResponse> }).Read({ digest });
      const reading = (async () => {
        const chunks: Buffer[] = [];
        for await (const message of call as AsyncIterable<ReadResponse>) {
          chunks.push(message.data);
          // A slow reader: the Delete lands while the Read is under way.
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return Buffer.concat(chunks);
      })();
      await new Promise((resolve) => setTimeout(resolve, 10));
      const [deleted] = await outcomes([unaryCall(s().client.content, 'Delete', { digest })]);
      assert.equal(deleted, Code.OK);
      const read = await reading.then(
        (data) => data,
        (err: unknown) => grpcCode(err),
      );
      if (Buffer.isBuffer(read)) assert.ok(read.equals(blob), 'the Read returned other bytes');
      else assert.equal(read, Code.NOT_FOUND);
      await assert.rejects(unaryCall(s().client.content, 'Info', { digest }), (err) => grpcCode(err) === Code.NOT_FOUND);
    }
  });
});
