// Field lookups for filtering blobs and ingests, as containerd's adaptors.
import { labelField, type FieldLookup } from '../filters';
import type { ContentInfo, IngestStatus } from './types';

export function contentFields(info: ContentInfo): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'digest':
        return info.digest;
      case 'size':
        return String(info.size);
      case 'labels':
        return labelField(info.labels, fieldpath);
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
