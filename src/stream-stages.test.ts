// runPipeline reports a failure's root cause, whichever stage is torn down
// first, and only once the destination has finished failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { readAhead, runPipeline, tap } from './stream-stages';

async function* chunks(...buffers: Buffer[]) {
  for (const buffer of buffers) yield buffer;
}

test('a destination that fails slowly is what is reported, after it has finished', async () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  let settled = false;
  const failing = async (input: AsyncIterable<Buffer>) => {
    for await (const chunk of input) if (chunk) break;
    // Writes in flight settle before the failure is reported.
    await sleep(30);
    settled = true;
    throw full;
  };
  const gunzip = createGunzip();
  await assert.rejects(runPipeline(chunks(gzipSync(Buffer.alloc(1 << 20))), [gunzip, tap(() => undefined)], failing), (err) => err === full);
  assert.ok(settled, 'runPipeline returned before its destination was done');
});

test("a stream stage's own error is reported, not the aborts it causes downstream", async () => {
  const corrupt = gzipSync(Buffer.alloc(1 << 16, 1));
  corrupt[corrupt.length - 6] ^= 0xff;
  const reading = runPipeline(chunks(corrupt), [createGunzip(), tap(() => undefined)], async (input) => {
    for await (const chunk of input) assert.ok(chunk);
  });
  await assert.rejects(reading, (err: NodeJS.ErrnoException) => err.code === 'Z_DATA_ERROR');
});

test('the signal ends every stage', async () => {
  const controller = new AbortController();
  const forever = async function* () {
    for (;;) {
      yield Buffer.alloc(1024);
      await sleep(1);
    }
  };
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(runPipeline(forever(), [tap(() => undefined)], async (input) => {
    for await (const chunk of input) assert.ok(chunk);
  }, controller.signal), { name: 'AbortError' });
});

test('readAhead lets the stage before it run ahead of a stalled reader, up to its limit and no further', async () => {
  let produced = 0;
  const source = async function* () {
    for (let i = 0; i < 64; i++) {
      produced += 64 * 1024;
      yield Buffer.alloc(64 * 1024, i);
    }
  };
  let received = 0;
  await runPipeline(source(), [readAhead(1 << 20)], async (input) => {
    for await (const chunk of input) {
      if (received === 0) {
        // The reader stalls after its first chunk; the source keeps going meanwhile.
        await sleep(50);
        assert.ok(produced >= 1 << 20, `only ${produced} bytes were read ahead`);
        assert.ok(produced <= (1 << 20) + 4 * 64 * 1024, `${produced} bytes were read ahead`);
      }
      received += chunk.length;
    }
  });
  assert.equal(received, 64 * 64 * 1024);
});
