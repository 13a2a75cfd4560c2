// containerd's garbage-collection labels, read as containerd's collector reads
// them (metadata/gc.go: scanRoots, references, sendLabelRefs and isRootRef in
// 1.6; the back references and gc.expire on content and snapshots in 2.x's
// core/metadata/gc.go). Strata has no leases, images or containers, so only
// the labels of its own snapshots and blobs take part.
import type { Labels } from '../snapshots/types';

export const GC_ROOT = 'containerd.io/gc.root';
export const GC_EXPIRE = 'containerd.io/gc.expire';
export const GC_FLAT = 'containerd.io/gc.flat';
const CONTENT_REF = 'containerd.io/gc.ref.content';
const SNAPSHOT_REF = 'containerd.io/gc.ref.snapshot.';
const CONTENT_BACK_REF = 'containerd.io/gc.bref.content';
const SNAPSHOT_BACK_REF = 'containerd.io/gc.bref.snapshot.';

/** What an object's labels say to the collector. */
export interface LabelReferences {
  /** Blobs and snapshots this object keeps alive. */
  contents: string[];
  snapshots: string[];
  /** Blobs and snapshots that, while alive, keep this object alive. */
  backContents: string[];
  backSnapshots: string[];
}

/**
 * `gc.ref.content`, or the same followed by '.' or '/' and any name
 * (sendLabelRefs: "Allow reference naming separated by . or /, ignore names").
 */
function isContentKey(key: string, prefix: string): boolean {
  return key === prefix || (key.startsWith(prefix) && (key[prefix.length] === '.' || key[prefix.length] === '/'));
}

/** `gc.ref.snapshot.<snapshotter>[/name]`: the snapshotter is up to the first '/'. */
function snapshotterOf(key: string, prefix: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash >= 0 ? rest.slice(0, slash) : rest;
}

/** The references in `labels`; snapshot ones count only when they name `snapshotter` (strata's snapshotter_name). */
export function labelReferences(labels: Labels, snapshotter: string): LabelReferences {
  const refs: LabelReferences = { contents: [], snapshots: [], backContents: [], backSnapshots: [] };
  for (const [key, value] of Object.entries(labels)) {
    if (isContentKey(key, CONTENT_REF)) refs.contents.push(value);
    else if (isContentKey(key, CONTENT_BACK_REF)) refs.backContents.push(value);
    else if (snapshotterOf(key, SNAPSHOT_REF) === snapshotter) refs.snapshots.push(value);
    else if (snapshotterOf(key, SNAPSHOT_BACK_REF) === snapshotter) refs.backSnapshots.push(value);
  }
  return refs;
}

// Go's time.RFC3339 layout, which also takes fractional seconds when parsing.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The instant `gc.expire` names, or undefined when it is absent or invalid (containerd ignores an invalid one). */
export function expiresAt(labels: Labels): number | undefined {
  const value = labels[GC_EXPIRE];
  if (value === undefined || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * How an object is held by its own labels: `gc.root` makes it a root (isRootRef
 * asks only that the label exists); an unexpired `gc.expire` holds it as a
 * lease would, flat when `gc.flat` is set too (only itself and, for a
 * snapshot, its parents, not what its labels reference).
 */
export function labelHold(labels: Labels, nowMs: number): 'root' | 'flat' | undefined {
  if (labels[GC_ROOT] !== undefined) return 'root';
  const expiry = expiresAt(labels);
  // Expired once the time is after it (expThreshold.After(exp)).
  if (expiry === undefined || expiry < nowMs) return undefined;
  return labels[GC_FLAT] !== undefined ? 'flat' : 'root';
}
