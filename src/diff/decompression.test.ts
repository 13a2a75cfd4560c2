// Decompression must never stall and never run ahead of its reader, whatever
// the input's chunking, the reader's pace and the frames' layout. Random
// cases (fast-check) check the output against the original bytes and
// against zlib's and zstd's one-shot decoders; fixed cases cover the bug
// report's layer, empty inputs and decompression bombs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compress as zstdCompress, decompress as zstdOneShot } from 'zstd-napi';
import {
  compressibleBytes,
  paceFor,
  paced,
  PROPERTY_OPTIONS,
  readSlowly,
  seededBytes,
  STALL_DEADLINE_MS,
  type Delay,
} from '../testing/streams';
import { decompression, type Compression } from './compression';
import { LayerFormatError } from './layer-format-error';

const KiB = 1024;
const MiB = 1024 * KiB;


type DataKind = 'random' | 'compressible' | 'zeros';

function dataOf(kind: DataKind, seed: number, length: number): Buffer {
  if (kind === 'random') return seededBytes(seed, length);
  if (kind === 'compressible') return compressibleBytes(seed, length);
  return Buffer.alloc(length);
}

/** A zstd skippable frame (magic 0x184D2A5?), which decoders must pass over. */
function skippableFrame(seed: number): Buffer {
  const payload = seededBytes(seed, seed % 40);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50 + (seed % 16), 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits data at `parts - 1` seeded points and compresses each part as its own frame (or gzip member). */
function framed(compression: Compression, data: Buffer, parts: number, seed: number, skippable: boolean): Buffer[] {
  if (compression === 'none') return [data];
  const cuts = [...seededBytes(seed, parts - 1)].map((b) => Math.floor((b / 256) * data.length)).sort((a, b) => a - b);
  const bounds = [0, ...cuts, data.length];
  const frames: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = data.subarray(bounds[i], bounds[i + 1]);
    if (compression === 'gzip') frames.push(gzipSync(part, { level: 1 + ((seed + i) % 9) }));
    else {
      if (skippable) frames.push(skippableFrame(seed + i));
      frames.push(zstdCompress(part, { compressionLevel: 1 + ((seed + i) % 5), checksumFlag: i % 2 === 0 }));
    }
  }
  return frames;
}

function reference(compression: Compression, input: Buffer): Buffer {
  if (compression === 'gzip') return gunzipSync(input);
  if (compression === 'zstd') return zstdOneShot(input);
  return input;
}

const chunkSize = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 65, max: 64 * KiB }),
  fc.integer({ min: 64 * KiB, max: MiB }),
  fc.constant(MiB),
);

const decompressionCase = fc.record({
  kind: fc.constantFrom<DataKind>('random', 'compressible', 'zeros'),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  chunkSize,
  /** Of the most data this chunk size allows in a quick case. */
  fill: fc.double({ min: 0, max: 1, noNaN: true }),
  frames: fc.integer({ min: 1, max: 4 }),
  skippable: fc.boolean(),
  /** Chunks that end exactly where frames end. */
  atFrameEnds: fc.boolean(),
  feederDelays: fc.array(fc.constantFrom<Delay>(0, 0, -1), { minLength: 1, maxLength: 6 }),
  readerDelays: fc.array(fc.constantFrom<Delay>(0, 0, 0, -1, -1, 1, 2), { minLength: 1, maxLength: 8 }),
  readerStyle: fc.constantFrom<'iterator' | 'writable'>('iterator', 'writable'),
});


for (const compression of ['gzip', 'zstd', 'none'] as const) {
  test(`${compression}: random data, chunking, frames and pacing decompress exactly, without stalling`, async () => {
    await fc.assert(
      fc.asyncProperty(decompressionCase, async (c) => {
        // At most ~2048 input chunks per case, so that a hundred cases take seconds.
        const length = Math.floor(c.fill * Math.min(2 * MiB, c.chunkSize * 2048));
        const data = dataOf(c.kind, c.seed, length);
        const frames = framed(compression, data, c.frames, c.seed, c.skippable);
        const input = Buffer.concat(frames);
        const sizes = c.atFrameEnds ? frames.map((f) => f.length) : [c.chunkSize];
        const stages = decompression(compression);
        const chunks = Math.ceil(input.length / Math.min(...sizes));
        const source = paced(input, sizes, c.feederDelays);
        const reader = { delays: paceFor(c.readerDelays, chunks), deadlineMs: STALL_DEADLINE_MS, style: c.readerStyle };
        const read = await readSlowly(source, stages, reader);
        assert.ok(read.output.equals(data), `output differs from the original (${read.output.length} vs ${data.length} bytes)`);
        assert.ok(read.output.equals(reference(compression, input)), 'output differs from the one-shot decoder');
        // What may wait is the input chunk being worked on, plus a piece or two of output.
        const largestInput = Math.min(input.length, Math.max(...sizes));
        assert.ok(read.peakBuffered <= largestInput + MiB, `${read.peakBuffered} bytes buffered, input chunks up to ${largestInput}`);
      }),
      PROPERTY_OPTIONS,
    );
  });
}

test('the reported layer (busybox, zstd -3) applies for every reader delay', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-zstd-'));
  try {
    const tarFile = path.join(dir, 'busybox.tar');
    execFileSync('tar', ['-C', '/', '-cf', tarFile, 'bin/busybox']);
    execFileSync('zstd', ['-3', '-q', tarFile, '-o', `${tarFile}.zst`]);
    const expected = execFileSync('zstd', ['-d', '-c', `${tarFile}.zst`], { maxBuffer: 64 * MiB });
    for (const delay of [0, -1, 1, 5]) {
      // The report's consumer: a Writable that calls back after a timeout.
      const reader = { delays: [delay], deadlineMs: STALL_DEADLINE_MS, style: 'writable' } as const;
      const read = await readSlowly(fs.createReadStream(`${tarFile}.zst`), decompression('zstd'), reader);
      assert.ok(read.output.equals(expected), `with a ${delay} ms reader the output differs from zstd -d`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A reader that takes a millisecond over each chunk. */
const slowReader = { delays: [1], deadlineMs: STALL_DEADLINE_MS };

test('empty inputs: nothing out of zstd and plain, the one-shot decoders agree on gzip', async () => {
  for (const compression of ['zstd', 'none'] as const) {
    const read = await readSlowly(paced(Buffer.alloc(0), [1]), decompression(compression), slowReader);
    assert.equal(read.output.length, 0);
  }
  // An empty gzip member decodes to nothing; zero bytes are not gzip at all, for zlib as for the stage.
  const empty = await readSlowly(paced(gzipSync(Buffer.alloc(0)), [1]), decompression('gzip'), slowReader);
  assert.equal(empty.output.length, 0);
  assert.throws(() => gunzipSync(Buffer.alloc(0)));
  await assert.rejects(readSlowly(paced(Buffer.alloc(0), [1]), decompression('gzip'), slowReader), /unexpected end/);
});

test('a truncated or damaged zstd stream fails as a broken layer, without stalling', async () => {
  const whole = zstdCompress(compressibleBytes(7, 300 * KiB), { checksumFlag: true });
  const cut = whole.subarray(0, whole.length >> 1);
  await assert.rejects(readSlowly(paced(cut, [4096]), decompression('zstd'), slowReader), LayerFormatError);
  const damaged = Buffer.from(whole);
  damaged[damaged.length - 2] ^= 0xff;
  await assert.rejects(readSlowly(paced(damaged, [4096]), decompression('zstd'), { ...slowReader, style: 'writable' }), LayerFormatError);
});

test('bombs: 128 MiB of zeros comes out a piece at a time, never piling up', async () => {
  const zeros = Buffer.alloc(128 * MiB);
  const bombs: Record<Exclude<Compression, 'none'>, Buffer> = {
    gzip: gzipSync(zeros, { level: 9 }),
    zstd: zstdCompress(zeros, { compressionLevel: 19 }),
  };
  for (const [compression, bomb] of Object.entries(bombs) as [Compression, Buffer][]) {
    assert.ok(bomb.length < 200 * KiB, `${compression} bomb is ${bomb.length} bytes`);
    // The whole bomb in one chunk, as the content store reads it, and a reader slower than the decoder.
    const reader = { delays: [-1, 0, 0, 0], deadlineMs: 60_000, style: 'writable', keep: false } as const;
    const read = await readSlowly(paced(bomb, [MiB]), decompression(compression), reader);
    assert.equal(read.received, zeros.length, `${compression}: not all of the bomb came out`);
    // What waits is the compressed input (one chunk of it), never its expansion.
    assert.ok(read.peakBuffered <= 2 * MiB, `${compression}: ${read.peakBuffered} bytes buffered`);
    assert.ok(read.largestChunk <= 128 * KiB + 1024, `${compression}: a ${read.largestChunk}-byte chunk`);
  }
});
