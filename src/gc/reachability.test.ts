import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { digestOf, graphOf, HOUR, keyOf, model, NOW, RULES, scenario } from '../testing/gc-scenario';
import { findGarbage, type GcBlob, type GcGraph } from './reachability';

test('garbage is exactly what no root reaches along containerd\'s edges, for any graph of snapshots, blobs and labels', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const { graph, parents } = graphOf(s);
      const live = model(s, parents);
      const garbage = findGarbage(graph, RULES);
      assert.deepEqual(garbage.snapshots.map((x) => x.key).sort(), s.snapshots.map((_, i) => i).filter((i) => !live(`s${i}`)).map(keyOf).sort(), 'snapshots');
      assert.deepEqual(garbage.blobs.map((b) => b.digest).sort(), s.blobs.map((_, i) => i).filter((i) => !live(`b${i}`)).map(digestOf).sort(), 'blobs');
      assert.deepEqual(garbage.ingests.map((i) => i.ref), s.ingests.flatMap((ing, i) => (ing.young ? [] : [`ingest-${i}`])), 'ingests');
      // Leaves first: no snapshot comes after its parent.
      const order = garbage.snapshots.map((x) => x.key);
      for (const x of garbage.snapshots) if (x.parent && order.includes(x.parent)) assert.ok(order.indexOf(x.key) < order.indexOf(x.parent), `${x.key} before ${x.parent}`);
    }),
    { numRuns: 500 },
  );
});

test('the label forms containerd reads, and the ones it ignores', () => {
  const blob = (digest: string, labels: Record<string, string>): GcBlob => ({ digest, size: 1, labels });
  const graph: GcGraph = {
    snapshots: [
      { key: 'base', kind: 'committed', labels: {}, size: 1 },
      { key: 'top', parent: 'base', kind: 'committed', labels: { 'containerd.io/gc.ref.content.config': 'sha256:c' }, size: 1 },
      { key: 'other', kind: 'committed', labels: {}, size: 1 },
    ],
    blobs: [
      blob('sha256:m', { 'containerd.io/gc.root': '', 'containerd.io/gc.ref.snapshot.strata/0': 'top', 'containerd.io/gc.ref.snapshot.overlayfs': 'other' }),
      blob('sha256:c', {}),
      blob('sha256:attached', { 'containerd.io/gc.bref.content': 'sha256:m' }),
      blob('sha256:held', { 'containerd.io/gc.expire': new Date(NOW + HOUR).toISOString(), 'containerd.io/gc.flat': '', 'containerd.io/gc.ref.content': 'sha256:lost' }),
      blob('sha256:lost', { 'containerd.io/gc.ref.contents': 'sha256:c' }),
      blob('sha256:expired', { 'containerd.io/gc.expire': '2026-12-02T11:00:00+00:00' }),
    ],
    ingests: [],
  };
  const garbage = findGarbage(graph, RULES);
  assert.deepEqual(garbage.snapshots.map((s) => s.key), ['other']);
  assert.deepEqual(garbage.blobs.map((b) => b.digest), ['sha256:lost', 'sha256:expired']);
});
