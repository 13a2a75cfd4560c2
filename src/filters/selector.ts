import type { Filter } from './filter';
import { compileRegexp } from './regexp';

export type Operator = '==' | '!=' | '~=';

/** A bare field path matches when the lookup finds the field, whatever its value, even ''. */
export function presenceSelector(fieldpath: string[]): Filter {
  return { match: (lookup) => lookup(fieldpath) !== undefined };
}

export function comparisonSelector(fieldpath: string[], operator: Operator, value: string): Filter {
  const accepts = valueTest(operator, value);
  return { match: (lookup) => accepts(lookup(fieldpath)) };
}

// Like containerd, only == asks for the field to be present; != and ~= see an
// absent field as ''. So `labels.x!=y` matches objects without label x, and
// `parent!=""` does not match a snapshot without a parent.
function valueTest(operator: Operator, value: string): (field: string | undefined) => boolean {
  switch (operator) {
    case '==':
      return (field) => field === value;
    case '!=':
      return (field) => (field ?? '') !== value;
    case '~=': {
      // containerd matches nothing with a pattern that does not compile.
      const regexp = compileRegexp(value);
      return (field) => regexp !== undefined && regexp.test(field ?? '');
    }
  }
}
