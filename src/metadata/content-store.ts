// Blob and ingest metadata. As with snapshots, each function runs on the
// connection it is given and the caller holds the transaction.
import type { Nanos } from '../clock';
import { notFound } from '../errdefs';
import type { ContentInfo } from '../content/types';
import type { Connection } from './database';
import { LabelTable, type Labels } from './label-table';
import { statement } from './statements';

const blobLabels = new LabelTable<string>('blob_labels', 'digest');

interface BlobRow {
  digest: string;
  size: number;
  created_ns: bigint;
  updated_ns: bigint;
}

function toInfo(row: BlobRow, labels: Labels): ContentInfo {
  return {
    digest: row.digest,
    size: Number(row.size),
    created: row.created_ns,
    updated: row.updated_ns,
    labels,
  };
}

function findBlob(db: Connection, digest: string): BlobRow | undefined {
  return statement(db, 'SELECT * FROM blobs WHERE digest = ?').safeIntegers(true).get(digest) as BlobRow | undefined;
}

export function blobExists(db: Connection, digest: string): boolean {
  return statement(db, 'SELECT 1 FROM blobs WHERE digest = ?').get(digest) !== undefined;
}

/** A Read's only question, asked for every 512 bytes of a layer containerd unpacks. */
export function getBlobSize(db: Connection, digest: string): number {
  const row = statement(db, 'SELECT size FROM blobs WHERE digest = ?').get(digest) as { size: number } | undefined;
  if (!row) throw notFound(`content ${digest} does not exist`);
  return row.size;
}

export function getBlob(db: Connection, digest: string): ContentInfo {
  const row = findBlob(db, digest);
  if (!row) throw notFound(`content ${digest} does not exist`);
  return toInfo(row, blobLabels.read(db, digest));
}

export function listBlobs(db: Connection): ContentInfo[] {
  const labels = blobLabels.readAll(db);
  const rows = statement(db, 'SELECT * FROM blobs').safeIntegers(true).all() as BlobRow[];
  return rows.map((row) => toInfo(row, labels.get(row.digest) ?? {}));
}

export function insertBlob(db: Connection, digest: string, size: number, labels: Labels, now: Nanos): void {
  statement(db, 'INSERT INTO blobs (digest, size, created_ns, updated_ns) VALUES (?, ?, ?, ?)').run(digest, size, now, now);
  blobLabels.write(db, digest, labels);
}

export function setBlobLabels(db: Connection, digest: string, labels: Labels, now: Nanos): void {
  blobLabels.write(db, digest, labels);
  statement(db, 'UPDATE blobs SET updated_ns = ? WHERE digest = ?').run(now, digest);
}

export function deleteBlob(db: Connection, digest: string): void {
  const { changes } = statement(db, 'DELETE FROM blobs WHERE digest = ?').run(digest);
  if (changes === 0) throw notFound(`content ${digest} does not exist`);
}

export interface IngestRow {
  ref: string;
  dir: string;
  total: number;
  expected: string;
  started_ns: bigint;
  updated_ns: bigint;
}

export function findIngest(db: Connection, ref: string): IngestRow | undefined {
  const row = statement(db, 'SELECT * FROM ingests WHERE ref = ?').safeIntegers(true).get(ref) as IngestRow | undefined;
  return row && { ...row, total: Number(row.total) };
}

export function listIngests(db: Connection): IngestRow[] {
  const rows = statement(db, 'SELECT * FROM ingests').safeIntegers(true).all() as IngestRow[];
  return rows.map((row) => ({ ...row, total: Number(row.total) }));
}

export function insertIngest(db: Connection, row: IngestRow): void {
  statement(
    db,
    'INSERT INTO ingests (ref, dir, total, expected, started_ns, updated_ns) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(row.ref, row.dir, row.total, row.expected, row.started_ns, row.updated_ns);
}

export function updateIngest(db: Connection, ref: string, total: number, expected: string, updated: Nanos): void {
  statement(db, 'UPDATE ingests SET total = ?, expected = ?, updated_ns = ? WHERE ref = ?').run(total, expected, updated, ref);
}

export function deleteIngest(db: Connection, ref: string): boolean {
  return statement(db, 'DELETE FROM ingests WHERE ref = ?').run(ref).changes > 0;
}
