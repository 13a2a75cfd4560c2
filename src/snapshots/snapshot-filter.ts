// Field lookup for filtering snapshots, matching containerd's snapshot adaptor.
import type { FieldLookup } from '../filters';
import type { Info } from './types';

export function snapshotFields(info: Info): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'kind':
        return info.kind;
      case 'name':
        return info.name;
      case 'parent':
        return info.parent;
      case 'labels':
        // A label key may itself contain dots: labels.a.b is the label "a.b".
        return fieldpath.length > 1 ? info.labels[fieldpath.slice(1).join('.')] : undefined;
      default:
        return undefined;
    }
  };
}
