// Labels are what containerd's collector decides by: they must come back
// from a reopened store exactly as written, up to containerd's 4096-byte
// limit on a key and its value, in any script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { ContentStore } from '../content/store';
import { NativeBackend } from '../snapshots/native-backend';
import { StoreSnapshotter } from '../snapshots/snapshotter';
import { openMetadataDatabase } from './database';
import { Transactor } from './transactor';

const log = pino({ level: 'silent' });

function open(dir: string) {
  const db = openMetadataDatabase(path.join(dir, 'metadata.db'));
  const writes = new Transactor(db);
  const content = new ContentStore(dir, db, writes, log);
  const snapshots = new StoreSnapshotter(dir, db, writes, new NativeBackend(), log);
  return {
    content,
    snapshots,
    async close() {
      await snapshots.close();
      await content.close();
      db.close();
    },
  };
}

/** A key and value whose UTF-8 bytes add up to exactly `bytes`. */
const atLimit = (key: string, fill: string, bytes: number) => {
  let value = '';
  while (Buffer.byteLength(key) + Buffer.byteLength(value + fill) <= bytes) value += fill;
  while (Buffer.byteLength(key) + Buffer.byteLength(value) < bytes) value += 'x';
  return { [key]: value };
};

test('labels on snapshots and blobs survive a reopen byte for byte, at the 4096-byte limit too', async () => {
  const labelSets = fc.dictionary(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
    { maxKeys: 6 },
  );
  await fc.assert(
    fc.asyncProperty(labelSets, labelSets, async (snapshotLabels, blobLabels) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-labels-'));
      try {
        // A computed key makes __proto__ a label like any other, as it is to containerd.
        const extra = { ...atLimit('containerd.io/gc.ref.content.l', 'é', 4096), ...atLimit('日本', '語', 4096), ['__proto__']: 'a label' };
        const wantSnapshot = { ...snapshotLabels, ...extra };
        const wantBlob = { ...blobLabels, ...extra };
        let store = open(dir);
        await store.content.open();
        await store.snapshots.prepare('s-active', '', {});
        await store.snapshots.commit('s', 's-active', wantSnapshot);
        const data = Buffer.from('labelled');
        const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
        const w = await store.content.openWriter('w', data.length, digest);
        await w.write(data);
        await w.commit(data.length, digest, wantBlob);
        await w.close();
        await store.close();

        store = open(dir);
        await store.content.open();
        assert.deepEqual((await store.snapshots.stat('s')).labels, wantSnapshot);
        assert.deepEqual((await store.snapshots.list([])).find((info) => info.name === 's')?.labels, wantSnapshot);
        assert.deepEqual((await store.content.info(digest)).labels, wantBlob);
        await store.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 25 },
  );
});
