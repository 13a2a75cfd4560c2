// The Content service's streaming calls over real gRPC on a unix socket:
// Read to a client that reads slowly or goes away, Write in chunks of any
// size, in lockstep or all at once, and cancelled halfway. Every call ends
// with its files closed, and the server keeps serving.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import pino from 'pino';
import { connect, unaryCall, type StrataClient } from '../client/connect';
import type { ReadResponse, WriteRequest, WriteResponse } from '../client/content-messages';
import { ContentStore } from '../content/store';
import { openMetadataDatabase, type MetadataDatabase } from '../metadata/database';
import { Transactor } from '../metadata/transactor';
import { withoutFdLeaks } from '../testing/fds';
import { pause, PROPERTY_OPTIONS, seededBytes, STALL_DEADLINE_MS, withDeadline, type Delay } from '../testing/streams';
import { contentHandlers } from './content-service';
import { TEST_GRACE_MS, TEST_LISTEN, testMetrics } from '../testing/listen';
import { listen, type RunningServer } from './grpc-server';
import { loadServices } from './proto';

const MiB = 1024 * 1024;
const CANCELLED = 1;

let dir: string;
let db: MetadataDatabase;
let store: ContentStore;
let server: RunningServer;
let client: StrataClient;
let metrics: ReturnType<typeof testMetrics>;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-content-grpc-'));
  const log = pino({ level: 'silent' });
  db = openMetadataDatabase(path.join(dir, 'metadata.db'));
  store = new ContentStore(dir, db, new Transactor(db), log);
  await store.open();
  metrics = testMetrics();
  const address = path.join(dir, 'strata.sock');
  server = await listen(address, [{ definition: loadServices().content, implementation: contentHandlers(store, metrics) }], TEST_LISTEN);
  client = connect(address);
});

afterEach(async () => {
  client.close();
  await server.stop(TEST_GRACE_MS);
  await store.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function read(digest: string, offset = 0, size = 0): grpc.ClientReadableStream<ReadResponse> {
  const content = client.content as unknown as { Read(request: object): grpc.ClientReadableStream<ReadResponse> };
  return content.Read({ digest, offset, size });
}

function openWrite(): grpc.ClientDuplexStream<WriteRequest, WriteResponse> {
  return (client.content as unknown as { Write(): grpc.ClientDuplexStream<WriteRequest, WriteResponse> }).Write();
}

/** Writes a message, waiting for the stream to drain when its buffer is full. */
async function send(call: grpc.ClientDuplexStream<WriteRequest, WriteResponse>, message: WriteRequest): Promise<void> {
  if (!call.write(message)) await new Promise((resolve) => call.once('drain', resolve));
}

/** STAT, WRITEs of `chunk` bytes, COMMIT: each answered before the next, or all sent at once. */
async function writeBlob(ref: string, data: Buffer, chunk: number, lockstep: boolean): Promise<WriteResponse[]> {
  const call = openWrite();
  const replies = call[Symbol.asyncIterator]() as AsyncIterator<WriteResponse>;
  const answers: WriteResponse[] = [];
  const exchange = async (message: WriteRequest) => {
    await send(call, message);
    if (lockstep) answers.push((await replies.next()).value as WriteResponse);
  };
  await exchange({ action: 'STAT', ref, total: data.length });
  for (let at = 0; at < data.length; at += chunk) await exchange({ action: 'WRITE', offset: at, data: data.subarray(at, at + chunk) });
  await exchange({ action: 'COMMIT', offset: data.length, total: data.length, expected: sha256(data) });
  call.end();
  for (let next = await replies.next(); !next.done; next = await replies.next()) answers.push(next.value);
  return answers;
}

async function commitBlob(data: Buffer): Promise<string> {
  const replies = await writeBlob(`blob-${sha256(data)}`, data, MiB, true);
  return replies[replies.length - 1].digest;
}

async function deleteBlob(digest: string): Promise<void> {
  await unaryCall(client.content, 'Delete', { digest });
}

/** The connection and SQLite's WAL files are opened once, by the first calls; they are not the calls' own. */
async function warmUp(): Promise<void> {
  const digest = await commitBlob(Buffer.from('warm-up'));
  for await (const message of read(digest)) assert.ok(message);
}

test('Read to a slow client sends every byte of any range in order', async () => {
  const data = seededBytes(3, 8 * MiB + 4321);
  const digest = await commitBlob(data);
  await warmUp();
  const readCase = fc.record({
    offset: fc.nat(data.length),
    size: fc.oneof(fc.constant(0), fc.nat(data.length)),
    delays: fc.array(fc.constantFrom<Delay>(0, -1, 2, 5), { minLength: 1, maxLength: 4 }),
  });
  await withoutFdLeaks(() =>
    fc.assert(
      fc.asyncProperty(readCase, async (c) => {
        const end = c.size <= 0 ? data.length : Math.min(data.length, c.offset + c.size);
        const chunks: Buffer[] = [];
        const reading = (async () => {
          let offset = c.offset;
          for await (const message of read(digest, c.offset, c.size)) {
            assert.equal(message.offset, offset);
            assert.ok(message.data.length <= MiB);
            chunks.push(message.data);
            offset += message.data.length;
            await pause(c.delays[chunks.length % c.delays.length]);
          }
        })();
        await withDeadline(reading, STALL_DEADLINE_MS, () => `Read of [${c.offset}, ${end})`);
        assert.ok(Buffer.concat(chunks).equals(data.subarray(c.offset, end)));
      }),
      { ...PROPERTY_OPTIONS, numRuns: 30 },
    ).then(() => deleteBlob(digest)),
  );
});

test('a Read cancelled mid-stream releases the blob, and the server keeps serving', async () => {
  const data = seededBytes(4, 16 * MiB);
  const digest = await commitBlob(data);
  await warmUp();
  // The blob's file is kept open between Reads; deleting the blob closes it
  // only when no Read holds it any more.
  await withoutFdLeaks(async () => {
    for (const after of [1, 3]) {
      const call = read(digest);
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const message of call) {
            assert.ok(message);
            // A client that stops reading, then gives up.
            if (++received === after) call.cancel();
          }
        })(),
        (err: grpc.ServiceError) => err.code === CANCELLED,
      );
    }
    const chunks: Buffer[] = [];
    for await (const message of read(digest, 5, 10)) chunks.push(message.data);
    assert.ok(Buffer.concat(chunks).equals(data.subarray(5, 15)));
    await deleteBlob(digest);
  }, 2_000);
});

test('Write in chunks of 1 byte to 1 MiB, in lockstep or all at once, commits exactly the bytes', async () => {
  await warmUp();
  const writeCase = fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    chunk: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 256 * 1024 }), fc.constant(MiB)),
    fill: fc.double({ min: 0, max: 1, noNaN: true }),
    lockstep: fc.boolean(),
  });
  let n = 0;
  await withoutFdLeaks(() =>
    fc.assert(
      fc.asyncProperty(writeCase, async (c) => {
        // Every case's bytes differ, so none finds its blob committed by an earlier one.
        const unique = Buffer.from(`case ${n++}:`);
        const data = Buffer.concat([unique, seededBytes(c.seed, Math.floor(c.fill * Math.min(4 * MiB, c.chunk * 300)))]);
        const writing = writeBlob(`write-${n}`, data, c.chunk, c.lockstep);
        const replies = await withDeadline(writing, STALL_DEADLINE_MS, () => `Write of ${data.length} bytes`);
        assert.equal(replies.length, 2 + Math.ceil(data.length / c.chunk));
        assert.equal(replies[replies.length - 1].digest, sha256(data));
        const { info } = await unaryCall<object, { info: { size: number } }>(client.content, 'Info', { digest: sha256(data) });
        assert.equal(info.size, data.length);
      }),
      { ...PROPERTY_OPTIONS, numRuns: 40 },
    ),
  );
});

test('a Write cancelled mid-stream keeps what was acknowledged, closes the ingest, and resumes', async () => {
  await warmUp();
  const data = seededBytes(9, 6 * MiB);
  const ref = 'cancelled-write';
  await withoutFdLeaks(async () => {
    const call = openWrite();
    const replies = call[Symbol.asyncIterator]() as AsyncIterator<WriteResponse>;
    await send(call, { action: 'STAT', ref, total: data.length });
    await replies.next();
    let acknowledged = 0;
    for (let at = 0; at < 3 * MiB; at += MiB) {
      await send(call, { action: 'WRITE', offset: at, data: data.subarray(at, at + MiB) });
      acknowledged = ((await replies.next()).value as WriteResponse).offset;
    }
    call.cancel();
    await assert.rejects(replies.next(), (err: grpc.ServiceError) => err.code === CANCELLED);
    // The server releases the ref when the cancel arrives; until then a Status may still see it busy.
    await withDeadline(
      (async () => {
        for (;;) {
          const { status } = await unaryCall<object, { status: { offset: number } }>(client.content, 'Status', { ref });
          if (status.offset === acknowledged) return;
          await pause(10);
        }
      })(),
      STALL_DEADLINE_MS,
      () => 'the acknowledged offset',
    );
  }, 2_000);
  const replies = await writeBlob(ref, data, MiB, true);
  assert.equal(replies[0].offset, 3 * MiB, 'the new writer did not resume at the stored offset');
  assert.equal(replies[replies.length - 1].digest, sha256(data));
});
