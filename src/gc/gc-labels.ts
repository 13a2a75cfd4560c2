// containerd's garbage-collection labels, read as containerd 2.3's collector
// reads them (core/metadata/gc.go: the label handlers of startGCContext,
// sendLabelRefs, scanRoots and references). Strata has no leases, images or
// containers, so only the labels of its own snapshots and blobs take part: a
// reference to an image (gc.ref.image, 2.0) leads nowhere, and a back
// reference to an image or a container (gc.bref.image, gc.bref.container,
// 2.2) keeps nothing, as edges to objects that are not there do in
// containerd.
import type { Labels } from '../snapshots/types';
import { parseGoDuration } from './go-duration';

export const GC_ROOT = 'containerd.io/gc.root';
export const GC_EXPIRE = 'containerd.io/gc.expire';
export const GC_FLAT = 'containerd.io/gc.flat';
const CONTENT_REF = 'containerd.io/gc.ref.content';
const SNAPSHOT_REF = 'containerd.io/gc.ref.snapshot.';
const CONTENT_BACK_REF = 'containerd.io/gc.bref.content';
const SNAPSHOT_BACK_REF = 'containerd.io/gc.bref.snapshot.';
const SNAPSHOT_CONDITION = 'containerd.io/gc.cond.snapshot';
const USED_AT_VALUE = 'containerd.io/gc.cond.value-usedat';

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

function parseRfc3339(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The instant `gc.expire` names, or undefined when it is absent or invalid (containerd ignores an invalid one). */
export function expiresAt(labels: Labels): number | undefined {
  const value = labels[GC_EXPIRE];
  return value === undefined ? undefined : parseRfc3339(value);
}

/**
 * How an object is held by its own labels: any label whose key begins with
 * `gc.root` makes it a root (sendLabelRefs seeks the prefix); an unexpired
 * `gc.expire` holds it as a lease would, flat when `gc.flat` is set too (only
 * itself and, for a snapshot, its parents, not what its labels reference).
 * containerd 2.3 reads gc.expire on leases and images; strata, with no
 * leases, gives it the meaning gc.go's comment gives it on content and
 * snapshots: treated as roots until they expire.
 */
export function labelHold(labels: Labels, nowMs: number): 'root' | 'flat' | undefined {
  if (Object.keys(labels).some((key) => key.startsWith(GC_ROOT))) return 'root';
  const expiry = expiresAt(labels);
  // Expired once the time is after it (expThreshold.After(exp)).
  if (expiry === undefined || expiry < nowMs) return undefined;
  return labels[GC_FLAT] !== undefined ? 'flat' : 'root';
}

/** A blob's conditional reference to a snapshot: the snapshot is kept with the blob while one of its `usedat` times meets a condition. */
export interface ConditionalReference {
  snapshot: string;
  /** Whether a snapshot used at `usedAtMs` is kept, at `nowMs`. */
  holds(usedAtMs: number, nowMs: number): boolean;
}

/**
 * `gc.cond.snapshot.<snapshotter>[/name]` = `usedat<5m,usedat>1h|key` on a
 * blob (2.3): conditions separated by ',' (any one will do), then '|' and
 * the snapshot's key. usedat takes '<' and '>' only, against a Go duration
 * since the snapshot's `gc.cond.value-usedat`; any other condition, operator
 * or duration is skipped, as containerd skips it.
 */
export function conditionalReferences(labels: Labels, snapshotter: string): ConditionalReference[] {
  const references: ConditionalReference[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith(SNAPSHOT_CONDITION)) continue;
    const named = key.slice(SNAPSHOT_CONDITION.length).replace(/^[./]+/, '');
    if (named.split('/')[0] !== snapshotter) continue;
    const bar = value.indexOf('|');
    if (bar < 0) continue;
    const snapshot = value.slice(bar + 1);
    for (const condition of value.slice(0, bar).split(',')) {
      const holds = usedAtCondition(condition);
      if (holds) references.push({ snapshot, holds });
    }
  }
  return references;
}

function usedAtCondition(condition: string): ConditionalReference['holds'] | undefined {
  const at = condition.search(/[!<>=]/);
  if (at < 0 || condition.slice(0, at) !== 'usedat') return undefined;
  let operator = condition[at];
  let operand = condition.slice(at + 1);
  if (operand.startsWith('=')) {
    operator += '=';
    operand = operand.slice(1);
  }
  const ns = parseGoDuration(operand);
  if (ns === undefined) return undefined;
  const ms = ns / 1e6;
  if (operator === '<') return (usedAt, now) => now - usedAt < ms;
  if (operator === '>') return (usedAt, now) => now - usedAt > ms;
  return undefined;
}

/** A snapshot's `gc.cond.value-usedat` times (any key beginning so, RFC 3339), for conditional references to test. */
export function usedAtValues(labels: Labels): number[] {
  return Object.entries(labels)
    .filter(([key]) => key.startsWith(USED_AT_VALUE))
    .map(([, value]) => parseRfc3339(value))
    .filter((ms): ms is number => ms !== undefined);
}
