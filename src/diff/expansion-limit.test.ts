import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compress as zstdCompress } from 'zstd-napi';
import { isKind } from '../errdefs';
import { compressibleBytes, paceFor, paced, PROPERTY_OPTIONS, readSlowly, STALL_DEADLINE_MS, type Delay } from '../testing/streams';
import { decompression, type Compression } from './compression';
import { limitExpansion, RATIO_FLOOR } from './expansion-limit';

const MiB = 1 << 20;

/** Runs `input` compressed bytes through a fake decompressor that turns each into `factor` bytes. */
async function expand(limits: { maxBytes: number; maxRatio: number }, inputMiB: number, factor: number): Promise<number> {
  const { compressed, uncompressed } = limitExpansion(limits);
  const piece = Buffer.alloc(MiB);
  async function* source() {
    for (let i = 0; i < inputMiB; i++) yield piece;
  }
  async function* decompress(input: AsyncIterable<Buffer>) {
    for await (const chunk of input) for (let i = 0; i < factor; i++) yield chunk;
  }
  let out = 0;
  for await (const chunk of uncompressed(decompress(compressed(source())))) out += chunk.length;
  return out;
}

const refused = (pattern: RegExp) => (err: Error) => isKind(err, 'InvalidArgument') && pattern.test(err.message);

test('a layer may expand to max_uncompressed_bytes and no further', async () => {
  assert.equal(await expand({ maxBytes: 64 * MiB, maxRatio: 0 }, 8, 8), 64 * MiB);
  await assert.rejects(expand({ maxBytes: 64 * MiB, maxRatio: 0 }, 9, 8), refused(/max_uncompressed_bytes \(67108864 bytes\)/));
});

test('the ratio counts only past its floor, and 0 turns it off', async () => {
  const floorMiB = RATIO_FLOOR / MiB;
  // 100:1 up to the floor is fine even with a limit of 10:1.
  assert.equal(await expand({ maxBytes: Infinity, maxRatio: 10 }, floorMiB / 128, 128), RATIO_FLOOR);
  await assert.rejects(expand({ maxBytes: Infinity, maxRatio: 10 }, floorMiB / 64, 128), refused(/max_compression_ratio \(10:1\)/));
  assert.equal(await expand({ maxBytes: Infinity, maxRatio: 0 }, floorMiB / 64, 128), 2 * RATIO_FLOOR);
  // Under the ratio, past the floor.
  assert.equal(await expand({ maxBytes: Infinity, maxRatio: 10 }, floorMiB / 4, 8), 2 * RATIO_FLOOR);
});

// The limit sits in the production chain (compressed tap, decoder,
// uncompressed tap) under any chunking and reader pace: a layer within it
// comes out whole, one byte over is refused, and neither stalls.
const limitCase = fc.record({
  compression: fc.constantFrom<Compression>('gzip', 'zstd', 'none'),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  length: fc.integer({ min: 1, max: 3 * MiB }),
  /** maxBytes minus the layer's size. */
  slack: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -MiB, max: MiB })),
  chunkSize: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 64 * 1024 }), fc.constant(MiB)),
  readerDelays: fc.array(fc.constantFrom<Delay>(0, 0, -1, 1), { minLength: 1, maxLength: 5 }),
  readerStyle: fc.constantFrom<'iterator' | 'writable'>('iterator', 'writable'),
});

test('in the decompression chain, under any chunking and pace, the limit passes what fits and refuses what does not', async () => {
  await fc.assert(
    fc.asyncProperty(limitCase, async (c) => {
      const data = compressibleBytes(c.seed, c.length);
      const input = c.compression === 'gzip' ? gzipSync(data) : c.compression === 'zstd' ? zstdCompress(data) : data;
      const maxBytes = Math.max(0, data.length + c.slack);
      const { compressed, uncompressed } = limitExpansion({ maxBytes, maxRatio: 10_000 });
      const stages = [compressed, ...decompression(c.compression), uncompressed];
      // One-byte chunks of a large input would take minutes: at most ~4096 of them.
      const sizes = [Math.max(c.chunkSize, Math.ceil(input.length / 4096))];
      const reader = { delays: paceFor(c.readerDelays, Math.ceil(input.length / sizes[0])), deadlineMs: STALL_DEADLINE_MS, style: c.readerStyle };
      const reading = readSlowly(paced(input, sizes), stages, reader);
      if (data.length <= maxBytes) {
        assert.ok((await reading).output.equals(data), 'a layer within the limit comes out whole');
      } else {
        await assert.rejects(reading, refused(/max_uncompressed_bytes/));
      }
    }),
    { ...PROPERTY_OPTIONS, numRuns: 60 },
  );
});
