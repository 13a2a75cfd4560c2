// Field lookups for filtering blobs and ingests, as containerd's adaptors.
import type { FieldLookup } from '../filters';
import type { ContentInfo, IngestStatus } from './types';

export function contentFields(info: ContentInfo): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'digest':
        return info.digest;
      case 'size':
        return String(info.size);
      case 'labels':
        // A label key may itself contain dots: labels.a.b is the label "a.b".
        return fieldpath.length > 1 ? info.labels[fieldpath.slice(1).join('.')] : undefined;
      default:
        return undefined;
    }
  };
}

export function ingestFields(status: IngestStatus): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'ref':
        return status.ref;
      case 'expected':
        return status.expected;
      default:
        return undefined;
    }
  };
}
