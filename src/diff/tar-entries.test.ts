// The tar parser, fed in random chunk sizes and read by a visitor as slow as
// a busy disk, hands over every entry and every byte exactly, never stalls,
// and never reads far ahead of the visitor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tar from 'tar-stream';
import { isKind, invalidArgument } from '../errdefs';
import { paceFor, pause, paced, PROPERTY_OPTIONS, seededBytes, STALL_DEADLINE_MS, withDeadline, type Delay } from '../testing/streams';
import { isLayerFault } from './layer-format-error';
import { forEachTarEntry } from './tar-entries';

const KiB = 1024;
const MiB = 1024 * KiB;

interface PackedEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  body: Buffer;
}

async function packed(entries: PackedEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { name, type, body } of entries) {
    pack.entry({ name, type, linkname: type === 'symlink' ? 'target' : undefined }, body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const entrySpec = fc.record({
  type: fc.constantFrom<PackedEntry['type']>('file', 'file', 'file', 'directory', 'symlink'),
  size: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 300 * KiB })),
  longName: fc.boolean(),
  /** The visitor reads this entry's body, or leaves it for the parser to skip. */
  read: fc.boolean(),
});

const tarCase = fc.record({
  entries: fc.array(entrySpec, { minLength: 0, maxLength: 12 }),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  chunkSize: fc.oneof(fc.integer({ min: 1, max: 512 }), fc.integer({ min: 513, max: 64 * KiB }), fc.constant(MiB)),
  feederDelays: fc.array(fc.constantFrom<Delay>(0, 0, -1), { minLength: 1, maxLength: 4 }),
  /** Per body chunk: the disk the visitor writes to. */
  diskDelays: fc.array(fc.constantFrom<Delay>(0, -1, -1, 1), { minLength: 1, maxLength: 6 }),
});

interface EntryShape {
  type: PackedEntry['type'];
  size: number;
  longName: boolean;
}

function entriesOf(specs: EntryShape[], seed: number): PackedEntry[] {
  return specs.map((spec, i) => ({
    name: `${spec.longName ? 'deep/'.repeat(30) : ''}entry-${i}${spec.type === 'directory' ? '/' : ''}`,
    type: spec.type,
    body: spec.type === 'file' ? seededBytes(seed + i, spec.size) : Buffer.alloc(0),
  }));
}

test('tar entries arrive whole and in order, whatever the chunking and however slow the visitor', async () => {
  await fc.assert(
    fc.asyncProperty(tarCase, async (c) => {
      const entries = entriesOf(c.entries, c.seed);
      const archive = await packed(entries);
      // Enough chunks to matter, few enough that a case takes milliseconds.
      const sizes = [Math.max(c.chunkSize, Math.ceil(archive.length / 2048))];
      const diskDelays = paceFor(c.diskDelays, archive.length / sizes[0]);
      let pulled = 0;
      async function* counted() {
        for await (const chunk of paced(archive, sizes, c.feederDelays)) {
          pulled += chunk.length;
          yield chunk;
        }
      }
      let consumed = 0;
      let lead = 0;
      let delay = 0;
      const seen: { name: string; body?: Buffer }[] = [];
      const visiting = forEachTarEntry(counted(), async (header, body) => {
        const spec = c.entries[seen.length];
        consumed += 512;
        if (!spec.read) {
          seen.push({ name: header.name });
          consumed += header.size ?? 0;
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of body) {
          chunks.push(chunk as Buffer);
          consumed += (chunk as Buffer).length;
          lead = Math.max(lead, pulled - consumed);
          await pause(diskDelays[delay++ % diskDelays.length]);
        }
        seen.push({ name: header.name, body: Buffer.concat(chunks) });
      });
      await withDeadline(visiting, STALL_DEADLINE_MS, () => `${seen.length} of ${entries.length} entries`);
      assert.deepEqual(
        seen.map((s) => s.name),
        entries.map((e) => e.name),
      );
      seen.forEach((s, i) => {
        if (s.body) assert.ok(s.body.equals(entries[i].body), `${s.name}: body differs`);
      });
      // The parser holds what it has pulled in and not handed over: about two chunks, never the archive.
      assert.ok(lead <= 2 * sizes[0] + 128 * KiB, `read ${lead} bytes ahead of the visitor`);
    }),
    PROPERTY_OPTIONS,
  );
});

test("a visitor's error stops the parse and comes back as it is", async () => {
  const archive = await packed(entriesOf([1, 2, 3].map(() => ({ type: 'file', size: 100 * KiB, longName: false })), 3));
  const refused = invalidArgument('refused');
  let visits = 0;
  const visiting = forEachTarEntry(paced(archive, [4096]), async (_header, body) => {
    if (++visits === 2) {
      for await (const chunk of body) if (chunk) break;
      throw refused;
    }
  });
  await assert.rejects(withDeadline(visiting, STALL_DEADLINE_MS, () => 'a failing visitor'), (err) => err === refused);
  assert.equal(visits, 2);
});

test('a truncated tar, or one whose source fails, is a broken layer unless the failure is the system', async () => {
  const archive = await packed(entriesOf([{ type: 'file', size: 50 * KiB, longName: false }], 5));
  const cut = forEachTarEntry(paced(archive.subarray(0, 20 * KiB), [1000]), async (_h, body) => {
    for await (const chunk of body) if (!chunk) break;
  });
  await assert.rejects(withDeadline(cut, STALL_DEADLINE_MS, () => 'a truncated tar'), isLayerFault);

  async function* failing(err: Error) {
    yield archive.subarray(0, 4096);
    throw err;
  }
  const corrupt = forEachTarEntry(failing(new Error('incorrect header check')), async () => undefined);
  await assert.rejects(corrupt, isLayerFault);
  const disk = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' });
  await assert.rejects(forEachTarEntry(failing(disk), async () => undefined), (err) => err === disk && !isLayerFault(err));
  const stopped = invalidArgument('stopped');
  await assert.rejects(forEachTarEntry(failing(stopped), async () => undefined), (err) => isKind(err, 'InvalidArgument'));
});
