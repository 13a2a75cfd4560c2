// Domain types of the content service, free of any wire format.
import type { Nanos } from '../clock';
import type { Labels } from '../metadata/label-table';

export interface ContentInfo {
  digest: string;
  size: number;
  created: Nanos;
  updated: Nanos;
  labels: Labels;
}

export interface IngestStatus {
  ref: string;
  offset: number;
  total: number;
  expected: string;
  started: Nanos;
  updated: Nanos;
}
