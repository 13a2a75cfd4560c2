// Compare's layer writer feeds a sink as slow as a busy disk: the layer comes
// out whole for every compression, never stalls, and a failing sink or a
// cancelled call ends it with every file it read closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decompress as zstdOneShot } from 'zstd-napi';
import { withoutFdLeaks } from '../testing/fds';
import { pause, PROPERTY_OPTIONS, seededBytes, STALL_DEADLINE_MS, withDeadline, type Delay } from '../testing/streams';
import { compression, type Compression } from './compression';
import { writeLayer } from './layer-writer';
import { forEachTarEntry } from './tar-entries';
import { treeChanges } from './tree-changes';

const KiB = 1024;



function uncompressed(kind: Compression, layer: Buffer): Buffer {
  if (kind === 'gzip') return gunzipSync(layer);
  if (kind === 'zstd') return zstdOneShot(layer);
  return layer;
}

async function withTrees<T>(fn: (lower: string, upper: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-layer-writer-'));
  try {
    fs.mkdirSync(path.join(dir, 'lower'));
    fs.mkdirSync(path.join(dir, 'upper'));
    return await fn(path.join(dir, 'lower'), path.join(dir, 'upper'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Files of the given sizes spread over a few directories; returns their contents by tar name. */
function makeTree(root: string, sizes: number[], seed: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  sizes.forEach((size, i) => {
    const name = `d${i % 3}/sub${i % 2}/f${i}`;
    const body = seededBytes(seed + i, size);
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), body);
    files.set(name, body);
  });
  return files;
}

async function tarFiles(tar: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  await forEachTarEntry(
    (async function* () {
      yield tar;
    })(),
    async (header, body) => {
      if (header.type !== 'file') return;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      files.set(header.name, Buffer.concat(chunks));
    },
  );
  return files;
}

const layerCase = fc.record({
  compression: fc.constantFrom<Compression>('none', 'gzip', 'zstd'),
  sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 2 * KiB }), fc.integer({ min: 0, max: 768 * KiB })), { maxLength: 12 }),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  sinkDelays: fc.array(fc.constantFrom<Delay>(0, -1, -1, 1, 3), { minLength: 1, maxLength: 5 }),
});

test('a layer written to a slow sink holds every change exactly, for every compression', async () => {
  await fc.assert(
    fc.asyncProperty(layerCase, (c) =>
      withTrees(async (lower, upper) => {
        const files = makeTree(upper, c.sizes, c.seed);
        const chunks: Buffer[] = [];
        const sink = async (chunk: Buffer) => {
          chunks.push(chunk);
          await pause(c.sinkDelays[chunks.length % c.sinkDelays.length]);
        };
        const writing = writeLayer(treeChanges(lower, upper), upper, compression(c.compression), sink);
        const { diffId } = await withDeadline(writing, STALL_DEADLINE_MS, () => `${chunks.length} chunks written`);
        const tar = uncompressed(c.compression, Buffer.concat(chunks));
        assert.equal(diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
        assert.deepEqual(await tarFiles(tar), files);
      }),
    ),
    { ...PROPERTY_OPTIONS, numRuns: 40 },
  );
});

test('a sink that fails, or a cancelled call, ends the layer with every file closed', async () => {
  await withTrees(async (lower, upper) => {
    makeTree(upper, [300 * KiB, 300 * KiB, 2 * 1024 * KiB, 40 * KiB], 5);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    for (const kind of ['none', 'gzip', 'zstd'] as const) {
      await withoutFdLeaks(async () => {
        let written = 0;
        const failing = async (chunk: Buffer) => {
          written += chunk.length;
          await pause(1);
          if (written > 400 * KiB) throw full;
        };
        const writing = writeLayer(treeChanges(lower, upper), upper, compression(kind), failing);
        await assert.rejects(withDeadline(writing, STALL_DEADLINE_MS, () => 'a failing sink'), (err) => err === full);

        const controller = new AbortController();
        const slow = async () => {
          await pause(2);
          controller.abort();
        };
        const cancelled = writeLayer(treeChanges(lower, upper), upper, compression(kind), slow, controller.signal);
        await assert.rejects(withDeadline(cancelled, STALL_DEADLINE_MS, () => 'a cancelled layer'));
      });
    }
  });
});

test('SOURCE_DATE_EPOCH: no time in the layer is later than it, earlier ones stay, and whiteouts are at 0', async () => {
  await withTrees(async (lower, upper) => {
    fs.writeFileSync(path.join(lower, 'gone'), '');
    fs.mkdirSync(path.join(upper, 'dir'));
    for (const [name, seconds] of [['dir/old', 1_000_000_000], ['dir/new', 2_000_000_000]] as const) {
      fs.writeFileSync(path.join(upper, name), name);
      fs.utimesSync(path.join(upper, name), seconds, seconds + 0.75);
    }
    fs.utimesSync(path.join(upper, 'dir'), 2_100_000_000, 2_100_000_000);
    const epoch = 1_500_000_000_500_000_000n;
    const chunks: Buffer[] = [];
    await writeLayer(treeChanges(lower, upper), upper, compression('none'), async (chunk) => void chunks.push(chunk), undefined, epoch);
    const times: Record<string, number> = {};
    await forEachTarEntry(
      (async function* () {
        yield Buffer.concat(chunks);
      })(),
      async (header, body) => {
        times[header.name] = (header.mtime as Date).getTime() / 1000;
        body.resume();
      },
    );
    assert.deepEqual(times, { dir: 1_500_000_000, 'dir/old': 1_000_000_000, 'dir/new': 1_500_000_000, '.wh.gone': 0 });
  });
});
