// Field lookup for filtering snapshots, matching containerd's snapshot adaptor.
import { labelField, type FieldLookup } from '../filters';
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
        return labelField(info.labels, fieldpath);
      default:
        return undefined;
    }
  };
}
