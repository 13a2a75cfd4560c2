// Snapshot metadata, with the semantics of containerd's snapshots/storage
// package. Every function runs on the connection it is given and expects the
// caller to hold the transaction: one operation, one transaction.
import type { Nanos } from '../clock';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../errdefs';
import { updateLabels, validateLabels } from '../labels';
import type { Info, Kind, Labels, SnapshotRef, Usage } from '../snapshots/types';
import type { Connection } from './database';
import { LabelTable } from './label-table';
import { statement } from './statements';

interface SnapshotRow {
  id: number;
  key: string;
  parent_key: string | null;
  kind: Kind;
  created_ns: bigint;
  updated_ns: bigint;
  size: number;
  inodes: number;
}

const SELECT_SNAPSHOT = `
  SELECT s.id, s.key, p.key AS parent_key, s.kind, s.created_ns, s.updated_ns, s.size, s.inodes
  FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id`;

function findRow(db: Connection, key: string): SnapshotRow | undefined {
  const row = statement(db, `${SELECT_SNAPSHOT} WHERE s.key = ?`)
    .safeIntegers(true)
    .get(key) as Record<keyof SnapshotRow, unknown> | undefined;
  return row && normalise(row);
}

// Timestamps need all 64 bits, so rows are read with safeIntegers and the
// small integer columns converted back to numbers here.
function normalise(row: Record<keyof SnapshotRow, unknown>): SnapshotRow {
  return {
    id: Number(row.id),
    key: row.key as string,
    parent_key: row.parent_key as string | null,
    kind: row.kind as Kind,
    created_ns: row.created_ns as bigint,
    updated_ns: row.updated_ns as bigint,
    size: Number(row.size),
    inodes: Number(row.inodes),
  };
}

function getRow(db: Connection, key: string): SnapshotRow {
  requireKey(key);
  const row = findRow(db, key);
  if (!row) throw notFound(`snapshot ${key} does not exist`);
  return row;
}

function requireKey(key: string): void {
  if (key === '') throw invalidArgument('snapshot key must not be empty');
}

/** containerd sets no limit; a key is a name in logs, labels and tools, so strata does. */
const MAX_KEY_BYTES = 4096;

/** A key or name a snapshot is given: what can be looked up later and printed. */
function requireNewKey(key: string): void {
  requireKey(key);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalidArgument(`snapshot key is longer than ${MAX_KEY_BYTES} bytes`);
  if (key.includes('\0')) throw invalidArgument('snapshot key must not contain NUL');
}

const labelTable = new LabelTable<number>('snapshot_labels', 'snapshot_id');

function toInfo(row: SnapshotRow, labels: Labels): Info {
  return {
    name: row.key,
    parent: row.parent_key ?? '',
    kind: row.kind,
    created: row.created_ns,
    updated: row.updated_ns,
    labels,
  };
}

function parentIds(db: Connection, id: number): number[] {
  const rows = statement(
    db,
    `WITH RECURSIVE chain(id, parent_id, depth) AS (
       SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
       UNION ALL
       SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN chain c ON s.id = c.parent_id
     )
     SELECT id FROM chain WHERE depth > 0 ORDER BY depth`,
  ).all(id) as { id: number }[];
  return rows.map((r) => r.id);
}

export function getInfo(db: Connection, key: string): Info {
  const row = getRow(db, key);
  return toInfo(row, labelTable.read(db, row.id));
}

/** The ids of the ancestors of snapshot `id`, nearest first. */
export function parentIdsOf(db: Connection, id: number): number[] {
  return parentIds(db, id);
}

export function getSnapshot(db: Connection, key: string): SnapshotRef {
  const row = getRow(db, key);
  return { id: row.id, kind: row.kind, parentIds: parentIds(db, row.id) };
}

/** The usage recorded at commit; active snapshots must be measured on disk instead. */
export function getUsage(db: Connection, key: string): { id: number; kind: Kind; usage: Usage } {
  const row = getRow(db, key);
  return { id: row.id, kind: row.kind, usage: { size: row.size, inodes: row.inodes } };
}

export function createSnapshot(
  db: Connection,
  kind: 'active' | 'view',
  key: string,
  parent: string,
  labels: Labels,
  now: Nanos,
): SnapshotRef {
  requireNewKey(key);
  validateLabels(labels);
  let parentId: number | null = null;
  if (parent !== '') {
    const parentRow = findRow(db, parent);
    if (!parentRow) throw notFound(`parent ${parent} does not exist`);
    if (parentRow.kind !== 'committed') throw invalidArgument(`parent ${parent} is not a committed snapshot`);
    parentId = parentRow.id;
  }
  if (findRow(db, key)) throw alreadyExists(`snapshot ${key} already exists`);
  const { lastInsertRowid } = statement(db, 'INSERT INTO snapshots (key, parent_id, kind, created_ns, updated_ns) VALUES (?, ?, ?, ?, ?)')
    .run(key, parentId, kind, now, now);
  const id = Number(lastInsertRowid);
  labelTable.write(db, id, labels);
  return { id, kind, parentIds: parentId === null ? [] : [parentId, ...parentIds(db, parentId)] };
}

/** What a Commit did: the snapshot's id, and its new ancestry (nearest first) when the Commit gave it its parent. */
export interface Committed {
  id: number;
  rebasedOnto?: number[];
}

/**
 * Commits an active snapshot under `name`, with containerd's rules (2.2's
 * overlay Commit, which looks the key up before storage.CommitActive): a
 * snapshot created without a parent may be given one now, which must be
 * committed; one created with a parent keeps it. The caller measures and
 * records the usage afterwards, once the backend has done whatever a new
 * parent asks of the snapshot's directory. How long the snapshot took to
 * unpack is its Prepare to this Commit, unless the caller knows better
 * (`unpackNs`).
 */
export function commitActive(db: Connection, key: string, name: string, labels: Labels, now: Nanos, parent = '', unpackNs?: Nanos): Committed {
  const row = getRow(db, key);
  requireNewKey(name);
  validateLabels(labels);
  if (findRow(db, name)) throw alreadyExists(`snapshot ${name} already exists`);
  if (row.kind !== 'active') throw failedPrecondition(`snapshot ${key} is ${row.kind}, not active`);
  const rebase = parent !== '' && parent !== (row.parent_key ?? '');
  let parentId: number | undefined;
  if (rebase) {
    if (row.parent_key !== null) throw invalidArgument(`cannot change parent of active snapshot ${key} on commit`);
    // containerd takes a Commit onto its own new name, and makes a snapshot its own parent.
    if (parent === name) throw invalidArgument(`snapshot ${name} cannot be its own parent`);
    // The active key is gone once committed, so in containerd it is a missing parent.
    const parentRow = parent === key ? undefined : findRow(db, parent);
    if (!parentRow) throw notFound(`parent ${parent} of snapshot ${key} does not exist`);
    if (parentRow.kind !== 'committed') throw failedPrecondition(`parent ${parent} is ${parentRow.kind}, not committed`);
    parentId = parentRow.id;
  }
  statement(db, `UPDATE snapshots SET key = ?, kind = 'committed', created_ns = ?, updated_ns = ?, first_unpack_ns = ?, parent_id = COALESCE(?, parent_id) WHERE id = ?`).run(
    name,
    now,
    now,
    unpackNs ?? now - row.created_ns,
    parentId ?? null,
    row.id,
  );
  // Committing replaces the labels rather than inheriting the active ones.
  labelTable.write(db, row.id, labels);
  return parentId === undefined ? { id: row.id } : { id: row.id, rebasedOnto: [parentId, ...parentIds(db, parentId)] };
}

export function labelOf(db: Connection, id: number, key: string): string | undefined {
  return labelTable.read(db, id)[key];
}

/** Disk usage, measured when the snapshot is committed. */
export function recordUsage(db: Connection, id: number, usage: Usage): void {
  statement(db, 'UPDATE snapshots SET size = ?, inodes = ? WHERE id = ?').run(usage.size, usage.inodes, id);
}

/** Whether the snapshot with this id is active and has no parent: one a Commit may rebase. */
export function isParentlessActive(db: Connection, id: number): boolean {
  const row = statement(db, 'SELECT kind, parent_id FROM snapshots WHERE id = ?').get(id) as { kind: Kind; parent_id: number | null } | undefined;
  return row?.kind === 'active' && row.parent_id === null;
}

export function updateInfo(
  db: Connection,
  name: string,
  newLabels: Labels,
  fieldpaths: readonly string[],
  now: Nanos,
): Info {
  const row = getRow(db, name);
  const updated = updateLabels(labelTable.read(db, row.id), newLabels, fieldpaths, `snapshot ${name}`);
  labelTable.write(db, row.id, updated);
  statement(db, 'UPDATE snapshots SET updated_ns = ? WHERE id = ?').run(now, row.id);
  return getInfo(db, name);
}

/** Removes the snapshot's row; its directory is the caller's to delete after commit. */
export function removeSnapshot(db: Connection, key: string): { id: number; kind: Kind } {
  const row = getRow(db, key);
  const child = statement(db, 'SELECT key FROM snapshots WHERE parent_id = ? LIMIT 1').get(row.id) as
    | { key: string }
    | undefined;
  if (child) throw failedPrecondition(`cannot remove snapshot ${key}: snapshot ${child.key} is its child`);
  statement(db, 'DELETE FROM snapshots WHERE id = ?').run(row.id);
  return { id: row.id, kind: row.kind };
}

export function listInfos(db: Connection): Info[] {
  // Snapshots with a chain strata verified come first: containerd adopts the
  // first one its Walk finds with a layer's snapshot.ref label, and any
  // client can write that label onto anything.
  const rows = statement(db, `${SELECT_SNAPSHOT} ORDER BY s.chain_trust IS NOT 'verified', s.id`).safeIntegers(true).all() as Record<keyof SnapshotRow, unknown>[];
  const labels = labelTable.readAll(db);
  return rows.map(normalise).map((row) => toInfo(row, labels.get(row.id) ?? {}));
}

export function liveIds(db: Connection): Set<number> {
  const rows = statement(db, 'SELECT id FROM snapshots').all() as { id: number }[];
  return new Set(rows.map((r) => r.id));
}

/** Every snapshot with its parent, kind, labels and recorded size: what the collector marks from. */
export function listForCollection(db: Connection): { key: string; parent?: string; kind: Kind; labels: Labels; size: number }[] {
  const rows = statement(db, SELECT_SNAPSHOT).safeIntegers(true).all() as Record<keyof SnapshotRow, unknown>[];
  const labels = labelTable.readAll(db);
  return rows.map(normalise).map((row) => ({
    key: row.key,
    ...(row.parent_key ? { parent: row.parent_key } : {}),
    kind: row.kind,
    labels: labels.get(row.id) ?? {},
    size: row.size,
  }));
}
