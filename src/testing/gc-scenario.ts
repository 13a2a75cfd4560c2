// Random graphs of snapshots, blobs, ingests and gc labels for the
// collector's tests, with the intended meaning of every label kept beside
// it, and a model of what stays live computed from that meaning alone.
import fc from 'fast-check';
import type { GcBlob, GcGraph, GcIngest, GcSnapshot } from '../gc/reachability';

export const NOW = Date.parse('2026-12-02T12:00:00Z');
export const HOUR = 3600_000;
export const RULES = { snapshotterName: 'strata', nowMs: NOW, ingestMaxAgeMs: 24 * HOUR };

/** What a label is meant to do; the model reads these, the collector only the label strings built from them. */
interface Reference {
  back: boolean;
  to: 'blob' | 'snapshot';
  /** May point past the last object: a dead edge. */
  target: number;
  /** 'decoy' keys look like references and are not (a wrong separator, another snapshotter). */
  form: 'exact' | 'dot' | 'slash' | 'decoy';
}

interface Holds {
  root: boolean;
  expire: 'none' | 'future' | 'past' | 'invalid';
  flat: boolean;
  refs: Reference[];
}

const holds = (objects: number): fc.Arbitrary<Holds> =>
  fc.record({
    root: fc.boolean(),
    expire: fc.constantFrom('none', 'future', 'past', 'invalid'),
    flat: fc.boolean(),
    refs: fc.array(
      fc.record({
        back: fc.boolean(),
        to: fc.constantFrom('blob', 'snapshot'),
        target: fc.nat(objects),
        form: fc.constantFrom('exact', 'dot', 'slash', 'decoy'),
      }),
      { maxLength: 4 },
    ),
  });

export const digestOf = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
export const keyOf = (i: number) => `snapshot-${i}`;

function labelsOf(h: Holds): Record<string, string> {
  const labels: Record<string, string> = {};
  if (h.root) labels['containerd.io/gc.root'] = 'true';
  const expiry = { future: new Date(NOW + HOUR).toISOString(), past: new Date(NOW - HOUR).toISOString(), invalid: 'tomorrow' };
  if (h.expire !== 'none') labels['containerd.io/gc.expire'] = expiry[h.expire];
  if (h.flat) labels['containerd.io/gc.flat'] = 'true';
  h.refs.forEach((r, n) => {
    const kind = r.back ? 'bref' : 'ref';
    const value = r.to === 'blob' ? digestOf(r.target) : keyOf(r.target);
    let key: string;
    if (r.to === 'blob') {
      const base = `containerd.io/gc.${kind}.content`;
      key = { exact: base, dot: `${base}.l${n}`, slash: `${base}/l${n}`, decoy: `${base}x${n}` }[r.form];
    } else {
      const base = `containerd.io/gc.${kind}.snapshot.`;
      key = { exact: `${base}strata`, dot: `${base}strata/l${n}`, slash: `${base}strata/l/${n}`, decoy: `${base}overlayfs/l${n}` }[r.form];
    }
    labels[key] = value;
  });
  return labels;
}

/** The labels a map can hold: a later reference under the same key replaces an earlier one. */
function effectiveRefs(h: Holds): Reference[] {
  const byKey = new Map<string, Reference>();
  h.refs.forEach((r, n) => {
    const key = r.form === 'exact' ? `${r.back}${r.to}` : `${r.back}${r.to}${r.form}${n}`;
    byKey.set(key, r);
  });
  return [...byKey.values()].filter((r) => r.form !== 'decoy');
}

export const scenario = fc
  .record({ snapshots: fc.nat(7), blobs: fc.nat(7), ingests: fc.nat(3) })
  .chain(({ snapshots, blobs, ingests }) =>
    fc.record({
      snapshots: fc.tuple(
        ...Array.from({ length: snapshots }, (_, i) =>
          fc.record({ kind: fc.constantFrom('committed', 'committed', 'active', 'view'), parent: fc.option(fc.nat(Math.max(0, i - 1)), { nil: undefined }), holds: holds(Math.max(snapshots, blobs)) }),
        ),
      ),
      blobs: fc.tuple(...Array.from({ length: blobs }, () => holds(Math.max(snapshots, blobs)))),
      ingests: fc.tuple(...Array.from({ length: ingests }, () => fc.record({ young: fc.boolean(), expected: fc.option(fc.nat(blobs), { nil: undefined }) }))),
    }),
  );

export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

export function graphOf(s: Scenario): { graph: GcGraph; parents: (number | undefined)[] } {
  // A parent must be an earlier committed snapshot, as Prepare and View require.
  const parents = s.snapshots.map((snap, i) => (snap.parent !== undefined && snap.parent < i && s.snapshots[snap.parent].kind === 'committed' ? snap.parent : undefined));
  const snapshots: GcSnapshot[] = s.snapshots.map((snap, i) => ({
    key: keyOf(i),
    parent: parents[i] === undefined ? undefined : keyOf(parents[i] as number),
    kind: snap.kind as GcSnapshot['kind'],
    labels: labelsOf(snap.holds),
    size: 100 + i,
  }));
  const blobs: GcBlob[] = s.blobs.map((h, i) => ({ digest: digestOf(i), size: 10 + i, labels: labelsOf(h) }));
  const ingests: GcIngest[] = s.ingests.map((ing, i) => ({
    ref: `ingest-${i}`,
    expected: ing.expected === undefined ? '' : digestOf(ing.expected),
    updatedMs: NOW - (ing.young ? HOUR : 48 * HOUR),
    size: 1,
  }));
  return { graph: { snapshots, blobs, ingests }, parents };
}

/** Live objects by a fixed point over an edge list, from the intents rather than the label strings. */
export function model(s: Scenario, parents: (number | undefined)[]) {
  const node = (to: 'blob' | 'snapshot', i: number) => (to === 'blob' ? (i < s.blobs.length ? `b${i}` : undefined) : i < s.snapshots.length ? `s${i}` : undefined);
  const fullEdges: [string, string][] = [];
  const parentEdges: [string, string][] = [];
  const full = new Set<string>();
  const flat = new Set<string>();
  const objects: [string, Holds][] = [...s.snapshots.map((x, i): [string, Holds] => [`s${i}`, x.holds]), ...s.blobs.map((h, i): [string, Holds] => [`b${i}`, h])];
  for (const [id, h] of objects) {
    for (const r of effectiveRefs(h)) {
      const other = node(r.to, r.target);
      if (other) fullEdges.push(r.back ? [other, id] : [id, other]);
    }
    if (h.root || (h.expire === 'future' && !h.flat)) full.add(id);
    else if (h.expire === 'future') flat.add(id);
  }
  parents.forEach((p, i) => {
    if (p !== undefined) parentEdges.push([`s${i}`, `s${p}`]);
  });
  s.snapshots.forEach((x, i) => x.kind !== 'committed' && full.add(`s${i}`));
  for (const ing of s.ingests) if (ing.young && ing.expected !== undefined && ing.expected < s.blobs.length) full.add(`b${ing.expected}`);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [a, b] of [...fullEdges, ...parentEdges]) {
      if (full.has(a) && !full.has(b)) {
        full.add(b);
        changed = true;
      }
    }
    for (const [a, b] of parentEdges) {
      if (flat.has(a) && !flat.has(b)) {
        flat.add(b);
        changed = true;
      }
    }
  }
  return (id: string) => full.has(id) || flat.has(id);
}

