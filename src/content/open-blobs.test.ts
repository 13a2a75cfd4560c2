import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenBlobs, type BlobOpener } from './open-blobs';

let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-open-blobs-'));
  for (const name of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, name), name.repeat(10));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Opens files of `dir`, recording each lookup; and whether a handle is still open. */
function opener() {
  const lookups: string[] = [];
  const lookup = (name: string) => (): BlobOpener => {
    lookups.push(name);
    return { size: 10, open: () => fs.promises.open(path.join(dir, name), 'r') };
  };
  const isOpen = (file: fs.promises.FileHandle) => file.fd !== -1;
  return { lookups, lookup, isOpen };
}

test('a kept blob is looked up and opened once, and the least recently used unused one closes first', async () => {
  const blobs = new OpenBlobs(2);
  const { lookups, lookup, isOpen } = opener();
  const a1 = await blobs.acquire('a', lookup('a'));
  const a2 = await blobs.acquire('a', lookup('a'));
  assert.equal(a1.file, a2.file);
  assert.equal(a1.size, 10);
  await a1.release();
  await a2.release();
  await a2.release();
  assert.ok(isOpen(a1.file), 'kept after its users are done');
  const b = await blobs.acquire('b', lookup('b'));
  await b.release();
  // a is now the least recently used of three.
  await (await blobs.acquire('a', lookup('a'))).release();
  const c = await blobs.acquire('c', lookup('c'));
  await c.release();
  assert.deepEqual(lookups, ['a', 'b', 'c']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(isOpen(b.file), false, 'b was the least recently used');
  assert.ok(isOpen(a1.file) && isOpen(c.file));
  await blobs.close();
  assert.equal(isOpen(a1.file) || isOpen(c.file), false);
});

test('an evicted or forgotten file stays open until its last user releases it', async () => {
  const blobs = new OpenBlobs(1);
  const { lookups, lookup, isOpen } = opener();
  const a = await blobs.acquire('a', lookup('a'));
  const b = await blobs.acquire('b', lookup('b'));
  const read = Buffer.alloc(10);
  await a.file.read(read, 0, 10, 0);
  assert.equal(read.toString(), 'a'.repeat(10));
  assert.ok(isOpen(a.file), 'evicted while in use');
  await a.release();
  assert.equal(isOpen(a.file), false);
  const forgotten = blobs.forget('b');
  assert.ok(isOpen(b.file));
  await b.release();
  await forgotten;
  assert.equal(isOpen(b.file), false);
  await (await blobs.acquire('b', lookup('b'))).release();
  assert.deepEqual(lookups, ['a', 'b', 'b'], 'a forgotten blob is looked up again');
  await blobs.close();
});

test('a lookup that throws or an open that fails keeps nothing', async () => {
  const blobs = new OpenBlobs(4);
  const missing = new Error('no such blob');
  await assert.rejects(
    blobs.acquire('x', () => {
      throw missing;
    }),
    missing,
  );
  let opens = 0;
  const failing = (): BlobOpener => ({
    size: 1,
    open: () => {
      opens++;
      return Promise.reject(new Error('EMFILE'));
    },
  });
  await assert.rejects(blobs.acquire('y', failing), /EMFILE/);
  await assert.rejects(blobs.acquire('y', failing), /EMFILE/);
  assert.equal(opens, 2);
  await blobs.close();
});
