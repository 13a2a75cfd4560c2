import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { setImmediate as immediate } from 'node:timers/promises';
import { WalSync } from './wal-sync';

function walFile(): { wal: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-wal-'));
  const wal = path.join(dir, 'metadata.db-wal');
  fs.writeFileSync(wal, 'log');
  return { wal, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('every flush waits for an fsync that started after it was called, and a burst shares them', async () => {
  const { wal, cleanup } = walFile();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(3), { minLength: 1, maxLength: 30 }), async (gaps) => {
        let clock = 0;
        const syncs: { started: number; finished?: number }[] = [];
        const sync = new WalSync(wal, async () => {
          const record: { started: number; finished?: number } = { started: ++clock };
          syncs.push(record);
          await immediate();
          record.finished = ++clock;
        });
        const flushes: Promise<void>[] = [];
        const checks: Promise<void>[] = [];
        for (const gap of gaps) {
          for (let i = 0; i < gap; i++) await immediate();
          const called = ++clock;
          const flushed = sync.flush();
          flushes.push(flushed);
          checks.push(
            flushed.then(() => {
              const resolvedAt = clock;
              assert.ok(
                syncs.some((s) => s.started > called && s.finished !== undefined && s.finished <= resolvedAt),
                `a flush called at ${called} resolved at ${resolvedAt} with no fsync begun after it`,
              );
            }),
          );
        }
        await Promise.all(checks);
        // A flush arriving while one runs waits for one more, shared with the others that arrive.
        assert.ok(syncs.length <= gaps.length, `${syncs.length} fsyncs for ${gaps.length} flushes`);
        if (gaps.every((g) => g === 0)) assert.ok(syncs.length <= 2, `${syncs.length} fsyncs for one burst`);
        sync.close();
      }),
    );
  } finally {
    cleanup();
  }
});

test('a failed fsync fails the flushes that waited on it, and the next flush tries again', async () => {
  const { wal, cleanup } = walFile();
  try {
    let fail = true;
    const sync = new WalSync(wal, async () => {
      await immediate();
      if (fail) throw new Error('EIO');
    });
    await assert.rejects(sync.flush(), /EIO/);
    fail = false;
    await sync.flush();
    sync.close();
  } finally {
    cleanup();
  }
});
