// Mark for strata's own collector: from the roots along every edge
// containerd 2.3's collector follows, and what is left unreached is garbage.
// The graph is one consistent read of the metadata; this module only
// decides, it removes nothing.
import type { Labels } from '../snapshots/types';
import { conditionalReferences, labelHold, labelReferences, usedAtValues } from './gc-labels';

export interface GcSnapshot {
  key: string;
  parent?: string;
  kind: 'active' | 'view' | 'committed';
  labels: Labels;
  /** Bytes on disk, as recorded at commit. */
  size: number;
}

export interface GcBlob {
  digest: string;
  size: number;
  labels: Labels;
}

export interface GcIngest {
  ref: string;
  /** The digest the writer said it expects, or ''. */
  expected: string;
  updatedMs: number;
  size: number;
}

export interface GcGraph {
  snapshots: GcSnapshot[];
  blobs: GcBlob[];
  ingests: GcIngest[];
}

export interface GcRules {
  /** The name containerd knows strata's snapshotter by, in `gc.ref.snapshot.<name>`. */
  snapshotterName: string;
  nowMs: number;
  /** Ingests untouched for longer are collected. */
  ingestMaxAgeMs: number;
}

export interface Garbage {
  /** Children before their parents, so each can be removed in turn. */
  snapshots: GcSnapshot[];
  blobs: GcBlob[];
  ingests: GcIngest[];
}

type NodeId = `s:${string}` | `b:${string}`;

/**
 * A full visit follows a node's parent, its label references and the back
 * references to it; a flat one (a gc.flat hold) only a snapshot's parents,
 * as containerd's resourceSnapshotFlat and resourceContentFlat.
 */
export function findGarbage(graph: GcGraph, rules: GcRules): Garbage {
  const snapshots = new Map(graph.snapshots.map((s) => [s.key, s]));
  const blobs = new Map(graph.blobs.map((b) => [b.digest, b]));
  const refsOf = new Map<NodeId, NodeId[]>();
  const backRefsTo = new Map<NodeId, NodeId[]>();
  const add = (map: Map<NodeId, NodeId[]>, from: NodeId, to: NodeId) => {
    const list = map.get(from);
    if (list) list.push(to);
    else map.set(from, [to]);
  };
  const labelled: [NodeId, Labels][] = [
    ...graph.snapshots.map((s): [NodeId, Labels] => [`s:${s.key}`, s.labels]),
    ...graph.blobs.map((b): [NodeId, Labels] => [`b:${b.digest}`, b.labels]),
  ];
  for (const [id, labels] of labelled) {
    const refs = labelReferences(labels, rules.snapshotterName);
    for (const digest of refs.contents) add(refsOf, id, `b:${digest}`);
    for (const key of refs.snapshots) add(refsOf, id, `s:${key}`);
    for (const digest of refs.backContents) add(backRefsTo, `b:${digest}`, id);
    for (const key of refs.backSnapshots) add(backRefsTo, `s:${key}`, id);
  }
  // Conditional references, from blobs only (2.3 reads them on content and
  // images), become edges when the snapshot's usedat meets them now.
  const usedAt = new Map(graph.snapshots.map((s) => [s.key, usedAtValues(s.labels)]));
  for (const b of graph.blobs) {
    for (const ref of conditionalReferences(b.labels, rules.snapshotterName)) {
      if ((usedAt.get(ref.snapshot) ?? []).some((t) => ref.holds(t, rules.nowMs))) add(refsOf, `b:${b.digest}`, `s:${ref.snapshot}`);
    }
  }

  const full = new Set<NodeId>();
  const flat = new Set<NodeId>();
  const pending: [NodeId, boolean][] = [];
  const reach = (id: NodeId, isFlat: boolean) => {
    // A dead edge (to something not stored) leads nowhere, as in containerd.
    const exists = id.startsWith('s:') ? snapshots.has(id.slice(2)) : blobs.has(id.slice(2));
    const seen = isFlat ? flat : full;
    if (!exists || seen.has(id)) return;
    seen.add(id);
    pending.push([id, isFlat]);
  };

  // Roots: scanRoots's isRootRef (gc.root), gc.expire holds, the active
  // snapshots and views (containerd's snapshotter keeps what is in use), and
  // ingests still being written, which keep the blob they expect.
  for (const [id, labels] of labelled) {
    const hold = labelHold(labels, rules.nowMs);
    if (hold) reach(id, hold === 'flat');
  }
  for (const s of graph.snapshots) if (s.kind !== 'committed') reach(`s:${s.key}`, false);
  const stale = (i: GcIngest) => rules.nowMs - i.updatedMs > rules.ingestMaxAgeMs;
  for (const i of graph.ingests) if (!stale(i) && i.expected !== '') reach(`b:${i.expected}`, false);

  for (let next = pending.pop(); next; next = pending.pop()) {
    const [id, isFlat] = next;
    const parent = id.startsWith('s:') ? snapshots.get(id.slice(2))?.parent : undefined;
    if (parent) reach(`s:${parent}`, isFlat);
    if (isFlat) continue;
    for (const to of refsOf.get(id) ?? []) reach(to, false);
    for (const from of backRefsTo.get(id) ?? []) reach(from, false);
  }

  const live = (id: NodeId) => full.has(id) || flat.has(id);
  const depth = (s: GcSnapshot): number => {
    let d = 0;
    for (let p = s.parent; p !== undefined; p = snapshots.get(p)?.parent) d++;
    return d;
  };
  return {
    snapshots: graph.snapshots.filter((s) => !live(`s:${s.key}`)).sort((a, b) => depth(b) - depth(a)),
    blobs: graph.blobs.filter((b) => !live(`b:${b.digest}`)),
    ingests: graph.ingests.filter(stale),
  };
}
