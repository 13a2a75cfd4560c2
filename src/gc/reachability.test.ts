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

test("containerd 2.3's labels: gc.root by prefix, image references that lead nowhere, and conditional snapshot references", () => {
  const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();
  const used = (m: number) => ({ 'containerd.io/gc.cond.value-usedat': minutesAgo(m) });
  const blob = (digest: string, labels: Record<string, string>): GcBlob => ({ digest, size: 1, labels });
  const graph: GcGraph = {
    snapshots: [
      { key: 'recent', kind: 'committed', labels: used(2), size: 1 },
      { key: 'old', kind: 'committed', labels: used(120), size: 1 },
      { key: 'stale-kept', kind: 'committed', labels: used(300), size: 1 },
      { key: 'unused', kind: 'committed', labels: {}, size: 1 },
      { key: 'other-snapshotter', kind: 'committed', labels: used(1), size: 1 },
      { key: 'bad-conditions', kind: 'committed', labels: used(1), size: 1 },
      { key: 'conditioned-by-snapshot', kind: 'committed', labels: used(1), size: 1 },
      { key: 'rooted', kind: 'committed', labels: { 'containerd.io/gc.root.pinned': 'yes' }, size: 1 },
    ],
    blobs: [
      blob('sha256:config', {
        'containerd.io/gc.root': '',
        'containerd.io/gc.cond.snapshot.strata': 'usedat<10m|recent',
        'containerd.io/gc.cond.snapshot.strata/two': 'usedat<10m,usedat>4h|stale-kept',
        'containerd.io/gc.cond.snapshot.strata/three': 'usedat<10m|old',
        'containerd.io/gc.cond.snapshot.strata/four': 'usedat<10m|unused',
        'containerd.io/gc.cond.snapshot.overlayfs': 'usedat<10m|other-snapshotter',
        'containerd.io/gc.cond.snapshot.strata/bad': 'usedat<=10m,usedat<10d,usedat=1m,created<1h|bad-conditions',
        'containerd.io/gc.cond.snapshot.strata/nokey': 'usedat<10m',
        'containerd.io/gc.ref.image': 'docker.io/library/busybox:latest',
        'containerd.io/gc.cond.value-usedat': minutesAgo(1),
      }),
      blob('sha256:unreached', { 'containerd.io/gc.cond.snapshot.strata': 'usedat<10m|conditioned-by-snapshot' }),
      blob('sha256:by-image', { 'containerd.io/gc.bref.image': 'docker.io/library/busybox:latest', 'containerd.io/gc.bref.container': 'c1' }),
      blob('sha256:rooted-by-prefix', { 'containerd.io/gc.rootless': '' }),
    ],
    ingests: [],
  };
  const garbage = findGarbage(graph, RULES);
  assert.deepEqual(garbage.snapshots.map((s) => s.key).sort(), ['bad-conditions', 'conditioned-by-snapshot', 'old', 'other-snapshotter', 'unused']);
  assert.deepEqual(garbage.blobs.map((b) => b.digest).sort(), ['sha256:by-image', 'sha256:unreached']);
});
