import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { isKind, type ErrorKind } from '../errdefs';
import { openMetadataDatabase, type MetadataDatabase } from '../metadata/database';
import { Transactor } from '../metadata/transactor';
import { withoutFdLeaks } from '../testing/fds';
import { pause, PROPERTY_OPTIONS, seededBytes, STALL_DEADLINE_MS, withDeadline, type Delay } from '../testing/streams';
import { ContentStore, READ_CHUNK } from './store';

let root: string;
let db: MetadataDatabase;
let store: ContentStore;

async function openStore(): Promise<void> {
  db = openMetadataDatabase(path.join(root, 'metadata.db'));
  store = new ContentStore(root, db, new Transactor(db), pino({ level: 'silent' }));
  await store.open();
}

async function reopenStore(): Promise<void> {
  await store.close();
  db.close();
  await openStore();
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-content-'));
  await openStore();
});

afterEach(async () => {
  await store.close();
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function rejectsKind(promise: Promise<unknown>, kind: ErrorKind, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(isKind(err, kind), `expected ${kind}, got ${err.name}: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

async function readAll(digest: string, offset = 0, size = 0): Promise<Buffer> {
  const { stream } = await store.read(digest, offset, size);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a committed blob is read-only, stored by digest, and reads back in ranges', async () => {
  const data = Buffer.from('hello, content store');
  const w = await store.openWriter('r1', data.length, sha256(data));
  await w.write(data);
  assert.equal(await w.commit(data.length, sha256(data), { a: '1' }), sha256(data));
  await w.close();
  const file = path.join(root, 'content/blobs/sha256', sha256(data).slice(7));
  assert.equal(fs.statSync(file).mode & 0o777, 0o444);
  assert.deepEqual(await readAll(sha256(data)), data);
  assert.deepEqual(await readAll(sha256(data), 7, 7), Buffer.from('content'));
  assert.deepEqual(await readAll(sha256(data), 7, 0), data.subarray(7));
  assert.deepEqual(await readAll(sha256(data), data.length), Buffer.alloc(0));
  await rejectsKind(store.read(sha256(data), data.length + 1, 0), 'OutOfRange');
  const info = await store.info(sha256(data));
  assert.equal(info.size, data.length);
  assert.deepEqual(info.labels, { a: '1' });
  assert.equal(info.created, info.updated);
  await rejectsKind(store.status('r1'), 'NotFound');
});

test('a mismatched commit is FailedPrecondition and the ingest stays to be resumed after a restart', async () => {
  const data = Buffer.from('0123456789');
  let w = await store.openWriter('r', 0, '');
  await w.write(data.subarray(0, 4));
  await rejectsKind(w.commit(10, '', {}), 'FailedPrecondition', /size/);
  await w.close();
  w = await store.openWriter('r', 0, '');
  await rejectsKind(w.commit(4, sha256('nope'), {}), 'FailedPrecondition', /digest/);
  await w.close();
  await reopenStore();
  const status = await store.status('r');
  assert.equal(status.offset, 4);
  w = await store.openWriter('r', 10, '');
  assert.equal(w.digest(), sha256(data.subarray(0, 4)));
  await w.write(data.subarray(4));
  await w.commit(10, sha256(data), {});
  await w.close();
  assert.deepEqual(await readAll(sha256(data)), data);
});

test('committing content that exists is AlreadyExists and removes the ingest', async () => {
  for (const ref of ['a', 'b']) {
    const w = await store.openWriter(ref, 0, '');
    await w.write(Buffer.from('same'));
    if (ref === 'a') await w.commit(0, '', {});
    else await rejectsKind(w.commit(0, '', {}), 'AlreadyExists');
    await w.close();
  }
  await rejectsKind(store.status('b'), 'NotFound');
  await rejectsKind(store.openWriter('c', 4, sha256('same')), 'AlreadyExists');
});

test('truncate restarts an ingest from zero', async () => {
  const w = await store.openWriter('t', 0, '');
  await w.write(Buffer.from('garbage'));
  await w.truncate();
  await w.write(Buffer.from('good'));
  assert.equal(await w.commit(4, sha256('good'), {}), sha256('good'));
  await w.close();
});

test('abort removes an ingest; a held ref cannot be aborted', async () => {
  const w = await store.openWriter('x', 0, '');
  await rejectsKind(store.abort('x'), 'Unavailable');
  await w.close();
  await store.abort('x');
  await rejectsKind(store.abort('x'), 'NotFound');
  assert.deepEqual(fs.readdirSync(path.join(root, 'content/ingest')), []);
});

test('delete removes blob and labels; a missing blob is NotFound', async () => {
  const w = await store.openWriter('d', 0, '');
  await w.write(Buffer.from('bye'));
  await w.commit(0, '', { l: 'v' });
  await w.close();
  await store.delete(sha256('bye'));
  await rejectsKind(store.delete(sha256('bye')), 'NotFound');
  await rejectsKind(store.info(sha256('bye')), 'NotFound');
  assert.equal(fs.existsSync(path.join(root, 'content/blobs/sha256', sha256('bye').slice(7))), false);
});

async function readRange(digest: string, offset = 0, size = 0): Promise<Buffer> {
  const range = await store.openRange(digest, offset, size);
  try {
    const out = Buffer.alloc(range.end - range.start);
    await range.file.read(out, 0, out.length, range.start);
    return out;
  } finally {
    await range.release();
  }
}

test('a blob read through a kept file is NotFound once deleted, and a Read in flight keeps its bytes', async () => {
  const data = seededBytes(3, 10_000);
  const w = await store.openWriter('k', 0, '');
  await w.write(data);
  await w.commit(0, '', {});
  await w.close();
  const digest = sha256(data);
  assert.deepEqual(await readRange(digest, 100, 50), data.subarray(100, 150));
  await rejectsKind(store.openRange(digest, data.length + 1, 0), 'OutOfRange');
  const inFlight = await store.openRange(digest, 0, 0);
  await store.delete(digest);
  await rejectsKind(store.openRange(digest, 0, 0), 'NotFound');
  const out = Buffer.alloc(data.length);
  await inFlight.file.read(out, 0, out.length, 0);
  await inFlight.release();
  assert.deepEqual(out, data);
  // Written again, the blob reads from its new file.
  const again = await store.openWriter('k2', 0, '');
  await again.write(data);
  await again.commit(0, '', {});
  await again.close();
  assert.deepEqual(await readRange(digest, 9_990), data.subarray(9_990));
});

test('update follows field masks; immutable fields are InvalidArgument', async () => {
  const w = await store.openWriter('u', 0, '');
  await w.write(Buffer.from('u'));
  await w.commit(0, '', { keep: '1', drop: '2' });
  await w.close();
  const digest = sha256('u');
  const before = await store.info(digest);
  const after = await store.update(digest, { add: '3' }, ['labels.add', 'labels.drop']);
  assert.deepEqual(after.labels, { keep: '1', add: '3' });
  assert.ok(after.updated > before.updated);
  assert.equal(after.created, before.created);
  await rejectsKind(store.update(digest, {}, ['size']), 'InvalidArgument');
  await rejectsKind(store.update(sha256('missing'), {}, []), 'NotFound');
});

test('list and statuses take containerd filters', async () => {
  for (const [ref, body, label] of [['1', 'one', 'x'], ['2', 'two', 'y']]) {
    const w = await store.openWriter(ref, 0, '');
    await w.write(Buffer.from(body));
    await w.commit(0, '', { kind: label });
    await w.close();
  }
  const pending = await store.openWriter('pending-1', 99, '');
  assert.deepEqual((await store.list(['labels.kind==y'])).map((i) => i.digest), [sha256('two')]);
  assert.deepEqual((await store.list([`digest==${sha256('one')}`])).map((i) => i.size), [3]);
  assert.equal((await store.list(['size==3'])).length, 2);
  assert.deepEqual((await store.listStatuses(['ref~=^pending'])).map((s) => [s.ref, s.total]), [['pending-1', 99]]);
  await pending.close();
  await rejectsKind(store.list(['labels.']), 'InvalidArgument');
});

test('start-up drops what a crash left: orphan ingest dirs, blob files without rows', async () => {
  const orphanIngest = path.join(root, 'content/ingest/deadbeef');
  fs.mkdirSync(orphanIngest);
  fs.writeFileSync(path.join(orphanIngest, 'data'), 'partial');
  const orphanBlob = path.join(root, 'content/blobs/sha256', sha256('lost').slice(7));
  fs.mkdirSync(path.dirname(orphanBlob), { recursive: true });
  fs.writeFileSync(orphanBlob, 'lost');
  await reopenStore();
  assert.equal(fs.existsSync(orphanIngest), false);
  assert.equal(fs.existsSync(orphanBlob), false);
  await rejectsKind(store.info(sha256('lost')), 'NotFound');
});

test('any range of a blob, however slowly read or abandoned, gives exactly its bytes and closes the file', async () => {
  const data = seededBytes(11, 3 * READ_CHUNK + 123);
  const w = await store.openWriter('ranges', data.length, sha256(data));
  await w.write(data);
  const digest = await w.commit(data.length, sha256(data), {});
  await w.close();
  const readCase = fc.record({
    offset: fc.nat(data.length),
    size: fc.oneof(fc.constant(0), fc.nat(data.length)),
    delays: fc.array(fc.constantFrom<Delay>(0, -1, 1, 3), { minLength: 1, maxLength: 4 }),
    /** Chunks read before the reader goes away; none means it reads to the end. */
    stopAfter: fc.option(fc.nat(3), { nil: undefined }),
  });
  await withoutFdLeaks(() =>
    fc.assert(
      fc.asyncProperty(readCase, async (c) => {
        const { stream } = await store.read(digest, c.offset, c.size);
        if (c.stopAfter === 0) {
          stream.destroy();
          return;
        }
        const end = c.size <= 0 ? data.length : Math.min(data.length, c.offset + c.size);
        const chunks: Buffer[] = [];
        const reading = (async () => {
          for await (const chunk of stream) {
            chunks.push(chunk as Buffer);
            if (chunks.length === c.stopAfter) break;
            await pause(c.delays[chunks.length % c.delays.length]);
          }
        })();
        await withDeadline(reading, STALL_DEADLINE_MS, () => `read of [${c.offset}, ${end})`);
        const got = Buffer.concat(chunks);
        const expected = data.subarray(c.offset, c.stopAfter === undefined ? end : c.offset + got.length);
        assert.ok(got.equals(expected), `read of [${c.offset}, ${end}) differs`);
        if (c.stopAfter === undefined) assert.equal(got.length, end - c.offset);
        assert.ok(chunks.every((chunk) => chunk.length <= READ_CHUNK));
      }),
      PROPERTY_OPTIONS,
    ),
  );
});

test('an ingest written in chunks of 1 byte to 1 MiB, closed and resumed anywhere, commits exactly its bytes', async () => {
  const writeCase = fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    chunkSize: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 64 * 1024 }), fc.constant(READ_CHUNK)),
    fill: fc.double({ min: 0, max: 1, noNaN: true }),
    /** Every this many chunks the writer goes away, and a new one resumes from the stored offset. */
    resumeEvery: fc.integer({ min: 8, max: 64 }),
  });
  let n = 0;
  // Each SQLite connection opens the WAL file when it first needs it; those stay open, and are not the ingest's.
  const warmUp = await store.openWriter('warm-up', 0, '');
  await warmUp.write(Buffer.from('warm-up'));
  await warmUp.commit(0, '', {});
  await warmUp.close();
  await readAll(sha256('warm-up'));
  await withoutFdLeaks(() =>
    fc.assert(
      fc.asyncProperty(writeCase, async (c) => {
        const data = seededBytes(c.seed, Math.floor(c.fill * Math.min(3 * READ_CHUNK, c.chunkSize * 400)));
        const ref = `resumed-${n++}`;
        let writer = await store.openWriter(ref, data.length, '');
        for (let at = 0, chunk = 1; at < data.length; chunk++) {
          await writer.write(data.subarray(at, at + c.chunkSize));
          at = Math.min(at + c.chunkSize, data.length);
          if (chunk % c.resumeEvery === 0) {
            await writer.close();
            writer = await store.openWriter(ref, data.length, '');
            assert.equal(writer.status().offset, at);
          }
        }
        try {
          const digest = await writer.commit(data.length, sha256(data), {}).catch((err: unknown) => {
            // The same bytes may have been committed by an earlier case.
            if (isKind(err, 'AlreadyExists')) return sha256(data);
            throw err;
          });
          assert.equal(digest, sha256(data));
        } finally {
          await writer.close();
        }
        assert.ok((await readAll(sha256(data))).equals(data));
      }),
      PROPERTY_OPTIONS,
    ),
  );
});
