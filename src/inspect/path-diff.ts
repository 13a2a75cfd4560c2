// Two sets of entries compared path by path: two layers of one image (their
// tar entries), or two images (their merged filesystems).
import type { EntryFacts } from './merged-tree';

type Compared = EntryFacts & { path: string; whiteout?: 'file' | 'opaque' };

const FIELDS = ['type', 'size', 'mode', 'uid', 'gid', 'linkname', 'whiteout'] as const;
type Field = (typeof FIELDS)[number];

export interface PathDifference {
  path: string;
  change: 'added' | 'removed' | 'changed';
  /** For a change: the fields that differ. */
  fields: Field[];
  before?: Partial<Record<Field, string | number>>;
  after?: Partial<Record<Field, string | number>>;
}

function pick(entry: Compared, fields: readonly Field[]): Partial<Record<Field, string | number>> {
  return Object.fromEntries(fields.filter((f) => entry[f] !== undefined).map((f) => [f, entry[f] as string | number]));
}

/** What B has that A has not (added), what A has that B has not (removed), and what differs, in path order. */
export function comparePaths(a: Iterable<Compared>, b: Iterable<Compared>): PathDifference[] {
  // A whiteout and a file may share a path within a layer: the key keeps both.
  const key = (e: Compared) => (e.whiteout ? `${e.path}\0${e.whiteout}` : e.path);
  const before = new Map<string, Compared>();
  for (const entry of a) before.set(key(entry), entry);
  const differences: PathDifference[] = [];
  const seen = new Set<string>();
  for (const entry of b) {
    const k = key(entry);
    seen.add(k);
    const old = before.get(k);
    if (!old) {
      differences.push({ path: entry.path, change: 'added', fields: [], after: pick(entry, FIELDS) });
      continue;
    }
    const fields = FIELDS.filter((f) => old[f] !== entry[f]);
    if (fields.length) differences.push({ path: entry.path, change: 'changed', fields, before: pick(old, fields), after: pick(entry, fields) });
  }
  for (const [k, entry] of before) {
    if (!seen.has(k)) differences.push({ path: entry.path, change: 'removed', fields: [], before: pick(entry, FIELDS) });
  }
  // A path both removed and added (a file and then its whiteout) reads in that order.
  const order = { removed: 0, changed: 1, added: 2 };
  return differences.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : order[x.change] - order[y.change]));
}
