import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { withoutFdLeaks } from '../testing/fds';
import { paceFor, pause, PROPERTY_OPTIONS, seededBytes, STALL_DEADLINE_MS, withDeadline, type Delay } from '../testing/streams';
import { syscalls } from '../native/syscalls';
import { readInChunks, type Chunk } from './range-chunks';
import { ReadBudget } from './read-budget';
import type { BlobRange } from './store';

let dir: string;
let blobPath: string;
const data = seededBytes(11, 300_000);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-range-chunks-'));
  blobPath = path.join(dir, 'blob');
  fs.writeFileSync(blobPath, data);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function openRange(start: number, end: number): Promise<BlobRange> {
  const file = await fs.promises.open(blobPath, 'r');
  return { digest: 'sha256:test', start, end, file, release: () => file.close() };
}

test('every chunk of any range arrives in order, with its headroom, to a consumer of any pace', async () => {
  const rangeCase = fc
    .record({
      start: fc.nat(data.length),
      length: fc.nat(data.length),
      chunkSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 200_000 })),
      headroom: fc.integer({ min: 0, max: 32 }),
      delays: fc.array(fc.constantFrom<Delay>(0, -1, 1, 3), { minLength: 1, maxLength: 4 }),
    })
    .filter((c) => Math.ceil(Math.min(c.length, data.length - c.start) / c.chunkSize) <= 1_000);
  await withoutFdLeaks(() =>
    fc.assert(
      fc.asyncProperty(rangeCase, async (c) => {
        const end = Math.min(data.length, c.start + c.length);
        const delays = paceFor(c.delays, Math.ceil((end - c.start) / c.chunkSize));
        const seen: Buffer[] = [];
        const buffers = new Set<Buffer>();
        let expected = c.start;
        const reading = readInChunks(await openRange(c.start, end), { chunkSize: c.chunkSize, headroom: c.headroom }, async (chunk: Chunk) => {
          assert.equal(chunk.position, expected);
          assert.equal(chunk.dataStart, c.headroom);
          assert.ok(chunk.length > 0 && chunk.length <= c.chunkSize);
          buffers.add(chunk.buffer);
          // The consumer owns the whole buffer until it resolves: scribble over the headroom.
          chunk.buffer.fill(0xee, 0, chunk.dataStart);
          await pause(delays[seen.length % delays.length]);
          seen.push(Buffer.from(chunk.buffer.subarray(chunk.dataStart, chunk.dataStart + chunk.length)));
          expected += chunk.length;
        });
        await withDeadline(reading, STALL_DEADLINE_MS, () => `chunks of [${c.start}, ${end})`);
        assert.ok(Buffer.concat(seen).equals(data.subarray(c.start, end)));
        assert.ok(buffers.size <= 2, `${buffers.size} buffers for one range`);
      }),
      PROPERTY_OPTIONS,
    ),
  );
});

test('a consumer that fails stops the reading, and the file is closed', async () => {
  await withoutFdLeaks(async () => {
    let calls = 0;
    await assert.rejects(
      readInChunks(await openRange(0, data.length), { chunkSize: 1000, headroom: 4 }, async () => {
        if (++calls === 3) throw new Error('client went away');
      }),
      /client went away/,
    );
    assert.equal(calls, 3);
  });
});

test('a blob file shorter than its recorded size is an error, not a short read', async () => {
  await withoutFdLeaks(async () => {
    const chunks: number[] = [];
    await assert.rejects(
      readInChunks(await openRange(0, data.length + 10), { chunkSize: 100_000, headroom: 0 }, async (chunk) => {
        chunks.push(chunk.length);
      }),
      /shorter than its recorded size/,
    );
    assert.deepEqual(chunks, [100_000, 100_000, 100_000]);
  });
});

test('large chunks take their buffers from the budget while it lasts, then reads go on in small chunks', async () => {
  await withoutFdLeaks(async () => {
    const large = new ReadBudget(2 * (8 + 100_000));
    const options = { chunkSize: 100_000, headroom: 8, budget: { large, smallChunkSize: 10_000 } };
    const sizes = async (consume: () => Promise<void> = async () => undefined) => {
      const seen: number[] = [];
      await readInChunks(await openRange(0, 300_000), options, async (chunk) => {
        seen.push(chunk.length);
        await consume();
      });
      return Math.max(...seen);
    };
    let inner = 0;
    // A second read while the first holds the budget gets small chunks.
    const outer = await sizes(async () => {
      if (inner === 0) inner = await sizes();
    });
    assert.deepEqual([outer, inner], [100_000, 10_000]);
    // The budget came back, also from a read that failed.
    await assert.rejects(sizes(async () => Promise.reject(new Error('client went away'))), /went away/);
    assert.equal(await sizes(), 100_000);
    assert.equal(large.tryTake(2 * (8 + 100_000)), true);
  });
});

test('a range the page cache does not hold is read by the thread pool, byte for byte', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('dropping the page cache needs root');
  const cold = path.join(dir, 'cold');
  fs.writeFileSync(cold, data);
  const fd = fs.openSync(cold, 'r');
  fs.fsyncSync(fd);
  try {
    // With the other unit tests running, one drop once left the page
    // cached (seen under make test): try again.
    let cached = 0;
    for (let attempt = 0; attempt < 20 && cached !== -1; attempt++) {
      fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
      cached = syscalls.preadCached(fd, Buffer.alloc(4096), 0, 4096, 200_000);
      if (cached !== -1) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(cached, -1, 'the page was not cached');
    const seen: Buffer[] = [];
    const file = await fs.promises.open(cold, 'r');
    const range = { digest: 'sha256:test', start: 0, end: data.length, file, release: () => file.close() };
    await readInChunks(range, { chunkSize: 65_536, headroom: 0 }, async (chunk) => {
      seen.push(Buffer.from(chunk.buffer.subarray(chunk.dataStart, chunk.dataStart + chunk.length)));
    });
    assert.ok(Buffer.concat(seen).equals(data));
    assert.equal(syscalls.preadCached(fd, Buffer.alloc(10), 0, 10, data.length), 0, 'the end of the file');
  } finally {
    fs.closeSync(fd);
  }
});
