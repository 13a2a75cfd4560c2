// The collector on a real store (SQLite, content files, native snapshots):
// a dry run lists what a collection then removes, and that is exactly the
// set this test works out by hand; everything else stays, files included.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { ContentStore } from '../content/store';
import { openMetadataDatabase, type MetadataDatabase } from '../metadata/database';
import { Transactor } from '../metadata/transactor';
import { NativeBackend } from '../snapshots/native-backend';
import { StoreSnapshotter } from '../snapshots/snapshotter';
import { digestOf, graphOf, keyOf, model, NOW, scenario } from '../testing/gc-scenario';
import { Collector } from './collector';

const log = pino({ level: 'silent' });
const HOUR = 3600_000;

let dir: string;
let db: MetadataDatabase;
let writes: Transactor;
let content: ContentStore;
let snapshots: StoreSnapshotter;
let collector: Collector;

async function openStore(): Promise<void> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-gc-'));
  db = openMetadataDatabase(path.join(dir, 'metadata.db'));
  writes = new Transactor(db);
  content = new ContentStore(dir, db, writes, log);
  await content.open();
  snapshots = new StoreSnapshotter(dir, db, writes, new NativeBackend(), log);
  collector = new Collector(db, writes, snapshots, content, { snapshotterName: 'strata', ingestMaxAgeMs: 24 * HOUR }, log);
}

async function closeStore(): Promise<void> {
  await snapshots.close();
  await content.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function resetStore(): Promise<void> {
  await closeStore();
  await openStore();
}

beforeEach(openStore);
afterEach(closeStore);

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function blob(data: string, labels: Record<string, string> = {}): Promise<string> {
  const w = await content.openWriter(`write-${data}`, data.length, sha256(data));
  await w.write(Buffer.from(data));
  await w.commit(data.length, sha256(data), labels);
  await w.close();
  return sha256(data);
}

async function committed(name: string, parent: string, labels: Record<string, string> = {}): Promise<void> {
  await snapshots.prepare(`${name}-active`, parent, {});
  await snapshots.commit(name, `${name}-active`, labels);
}

test('a collection removes exactly the unreachable snapshots, blobs and old ingests, and a dry run lists the same', async () => {
  const later = new Date(Date.now() + HOUR).toISOString();
  const earlier = new Date(Date.now() - HOUR).toISOString();
  // An image: its manifest is a root and holds config, layer and the unpacked chain.
  await committed('layer-0', '');
  await committed('layer-1', 'layer-0');
  const config = await blob('config');
  const layer = await blob('layer');
  await blob('manifest', {
    'containerd.io/gc.root': '2026-12-02',
    'containerd.io/gc.ref.content.config': config,
    'containerd.io/gc.ref.content.l.0': layer,
    'containerd.io/gc.ref.snapshot.strata': 'layer-1',
  });
  // What nothing holds: a chain, a blob, a blob whose hold expired, one held by another snapshotter's label.
  await committed('orphan-0', '');
  await committed('orphan-1', 'orphan-0');
  const orphan = await blob('orphan');
  const expired = await blob('expired', { 'containerd.io/gc.expire': earlier });
  const elsewhere = await blob('elsewhere', { 'containerd.io/gc.ref.snapshot.overlayfs': 'orphan-1' });
  // Held: by an unexpired gc.expire, and by the label of an active snapshot (a container's rootfs).
  await blob('leased', { 'containerd.io/gc.expire': later });
  const usedByContainer = await blob('used by a container');
  await committed('base', '');
  await snapshots.prepare('container', 'base', { 'containerd.io/gc.ref.content': usedByContainer });
  // Ingests: one written to a day and a half ago, one just now.
  for (const ref of ['stale', 'fresh']) {
    const w = await content.openWriter(ref, 10, '');
    await w.write(Buffer.from('half'));
    await w.close();
  }
  db.writer.prepare('UPDATE ingests SET updated_ns = ? WHERE ref = ?').run(BigInt(Date.now() - 36 * HOUR) * 1_000_000n, 'stale');

  const snapshotKeys = async () => (await snapshots.list([])).map((i) => i.name).sort();
  const digests = async () => (await content.list([])).map((i) => i.digest).sort();
  const before = { snapshots: await snapshotKeys(), blobs: await digests() };

  const dry = await collector.collect({ dryRun: true });
  const expected = {
    snapshots: ['orphan-1', 'orphan-0'],
    blobs: [orphan, expired, elsewhere].sort(),
    ingests: ['stale'],
  };
  const listed = (r: typeof dry) => ({ snapshots: r.snapshots.map((s) => s.key), blobs: r.blobs.map((b) => b.digest).sort(), ingests: r.ingests.map((i) => i.ref) });
  assert.deepEqual(listed(dry), expected);
  assert.deepEqual([dry.bytes.blobs, dry.bytes.ingests], ['orphan'.length + 'expired'.length + 'elsewhere'.length, 'half'.length]);
  assert.deepEqual({ snapshots: await snapshotKeys(), blobs: await digests() }, before, 'a dry run removes nothing');
  assert.deepEqual((await content.listStatuses([])).map((s) => s.ref).sort(), ['fresh', 'stale']);

  const real = await collector.collect({ dryRun: false });
  assert.deepEqual(listed(real), expected);
  assert.deepEqual(await snapshotKeys(), before.snapshots.filter((k) => !expected.snapshots.includes(k)));
  assert.deepEqual(await digests(), before.blobs.filter((d) => !expected.blobs.includes(d)));
  assert.deepEqual((await content.listStatuses([])).map((s) => s.ref), ['fresh']);
  for (const digest of expected.blobs) assert.equal(fs.existsSync(path.join(dir, 'content/blobs/sha256', digest.slice(7))), false, digest);

  // Nothing left to collect.
  assert.deepEqual(listed(await collector.collect({ dryRun: false })), { snapshots: [], blobs: [], ingests: [] });
});

test('a write committed during the sweep makes the collector mark again, so what it made reachable stays', async () => {
  const orphan = await blob('orphan');
  const rescued = await blob('rescued');
  // The first removal's precondition is the first moment the sweep runs: a
  // client labels `rescued` a root just then, in its own transaction.
  const remove = content.delete.bind(content);
  let rescuing = true;
  content.delete = async (digest, precondition) => {
    if (rescuing) {
      rescuing = false;
      await content.update(rescued, { 'containerd.io/gc.root': 'x' }, ['labels.containerd.io/gc.root']);
    }
    return remove(digest, precondition);
  };
  const report = await collector.collect({ dryRun: false });
  assert.deepEqual(report.blobs.map((b) => b.digest), [orphan]);
  assert.deepEqual((await content.list([])).map((i) => i.digest), [rescued]);
});

test('on a real store, for any graph of snapshots, blobs, ingests and labels, a collection leaves exactly what is reachable', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      await resetStore();
      const { graph, parents } = graphOf(s);
      const live = model(s, parents);
      // The graph's digests are names; the store's are hashes of each blob's bytes.
      const data = graph.blobs.map((_, i) => `blob ${i}`);
      const real = new Map(graph.blobs.map((b, i) => [b.digest, sha256(data[i])]));
      // Its times are around NOW; the collector's are around the real clock.
      const shift = Date.now() - NOW;
      const moved = (k: string, v: string) => (k === 'containerd.io/gc.expire' && !Number.isNaN(Date.parse(v)) ? new Date(Date.parse(v) + shift).toISOString() : v);
      const rewrite = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, real.get(v) ?? moved(k, v)]));
      for (const snap of graph.snapshots) {
        const labels = rewrite(snap.labels);
        if (snap.kind === 'committed') await committed(snap.key, snap.parent ?? '', labels);
        else if (snap.kind === 'active') await snapshots.prepare(snap.key, snap.parent ?? '', labels);
        else await snapshots.view(snap.key, snap.parent ?? '', labels);
      }
      for (const ing of graph.ingests) {
        const w = await content.openWriter(ing.ref, 10, real.get(ing.expected) ?? ing.expected);
        await w.write(Buffer.from('x'));
        await w.close();
        db.writer.prepare('UPDATE ingests SET updated_ns = ? WHERE ref = ?').run(BigInt(ing.updatedMs) * 1_000_000n + BigInt(Date.now() - NOW) * 1_000_000n, ing.ref);
      }
      // After the ingests: a writer cannot start on a digest that is already stored.
      for (const [i, b] of graph.blobs.entries()) await blob(data[i], rewrite(b.labels));
      await collector.collect({ dryRun: false });
      assert.deepEqual((await snapshots.list([])).map((i) => i.name).sort(), s.snapshots.map((_, i) => i).filter((i) => live(`s${i}`)).map(keyOf).sort(), 'snapshots');
      assert.deepEqual((await content.list([])).map((i) => i.digest).sort(), s.blobs.map((_, i) => i).filter((i) => live(`b${i}`)).map((i) => real.get(digestOf(i))).sort(), 'blobs');
      assert.deepEqual((await content.listStatuses([])).map((i) => i.ref).sort(), s.ingests.flatMap((ing, i) => (ing.young ? [`ingest-${i}`] : [])).sort(), 'ingests');
    }),
    { numRuns: 20 },
  );
});
