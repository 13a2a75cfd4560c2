import { always, anyOf, type Filter } from './filter';
import { parseFilter } from './parser';

export type { FieldLookup, Filter } from './filter';

/**
 * Parses containerd filter strings (OR of ANDs): an object matches when it
 * matches any of the strings, and no strings at all match everything. Throws
 * invalidArgument(...) from src/errdefs.ts on a syntax error, with containerd's
 * message, which quotes the filter and marks the position as `>|x|<`.
 */
export function parseFilters(filters: readonly string[]): Filter {
  return filters.length === 0 ? always : anyOf(filters.map(parseFilter));
}

/**
 * The labels.KEY field of containerd's adaptors. A key may itself contain
 * dots: labels.a.b is the label "a.b". Only the object's own keys count, or
 * labels.constructor would find Object.prototype's.
 */
export function labelField(labels: Record<string, string>, fieldpath: string[]): string | undefined {
  if (fieldpath.length < 2) return undefined;
  const key = fieldpath.slice(1).join('.');
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
