import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../errdefs';
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
