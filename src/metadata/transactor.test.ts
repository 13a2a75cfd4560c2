import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openMetadataDatabase } from './database';
import { Transactor } from './transactor';
import * as store from './snapshot-store';

function withDb(fn: (tx: Transactor, reader: ReturnType<typeof openMetadataDatabase>['reader']) => Promise<void>) {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-tx-'));
    const db = openMetadataDatabase(path.join(dir, 'metadata.db'));
    try {
      await fn(new Transactor(db), db.reader);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a failing operation rolls back everything it wrote, even after awaiting',
  withDb(async (tx, reader) => {
    await assert.rejects(
      tx.run(async (db) => {
        store.createSnapshot(db, 'active', 'doomed', '', {}, 1n);
        await sleep(5);
        throw new Error('filesystem work failed');
      }),
      /filesystem work failed/,
    );
    assert.equal(store.listInfos(reader).length, 0);
  }),
);

test(
  'operations never interleave inside one transaction',
  withDb(async (tx, reader) => {
    const order: string[] = [];
    const slow = tx.run(async (db) => {
      order.push('slow start');
      store.createSnapshot(db, 'active', 'slow', '', {}, 1n);
      await sleep(20);
      order.push('slow end');
    });
    const fast = tx.run(async (db) => {
      order.push('fast');
      store.createSnapshot(db, 'active', 'fast', '', {}, 2n);
    });
    await Promise.all([slow, fast]);
    assert.deepEqual(order, ['slow start', 'slow end', 'fast']);
    assert.equal(store.listInfos(reader).length, 2);
  }),
);
