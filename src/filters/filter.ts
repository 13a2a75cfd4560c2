/**
 * Looks up a field path (e.g. ['labels','containerd.io/gc.root'] or ['kind']);
 * returns undefined when absent.
 *
 * Return '' rather than undefined for fields that containerd's adaptor reports
 * as present but empty (a snapshot's `name` and `parent` are always present),
 * because a bare field path tests presence and `==` requires it.
 */
export type FieldLookup = (fieldpath: string[]) => string | undefined;

export interface Filter {
  match(lookup: FieldLookup): boolean;
}

export const always: Filter = { match: () => true };

export function allOf(filters: readonly Filter[]): Filter {
  return { match: (lookup) => filters.every((filter) => filter.match(lookup)) };
}

export function anyOf(filters: readonly Filter[]): Filter {
  return { match: (lookup) => filters.some((filter) => filter.match(lookup)) };
}
