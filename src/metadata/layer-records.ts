// What strata knows of snapshots as unpacked layers: the diff ID its own
// Apply wrote into one, the chain ID that gives it on top of its parent, and
// which snapshots strata made ahead of containerd (unpack/early-unpacks.ts).
// Like snapshot-store.ts, every function expects the caller's transaction.
import { chainId } from '../chain-id';
import type { Connection } from './database';
import { statement } from './statements';

/** The label containerd's unpacker gives a layer's snapshot: its chain ID (remote snapshotters' protocol). */
export const SNAPSHOT_REF_LABEL = 'containerd.io/snapshot.ref';

/**
 * Which snapshots strata may offer a Prepare in place of a new unpack.
 * verified: those whose chain strata computed from diff IDs its own Applies
 * produced, all the way down; trusted: also those whose chain (or a link of
 * it) is only the label containerd gave them; off: none.
 */
export const SHARE_MODES = ['verified', 'trusted', 'off'] as const;
export type ShareMode = (typeof SHARE_MODES)[number];

export type ChainTrust = 'verified' | 'trusted';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * An Apply into the active snapshot `id` begins. It can vouch for the result
 * only if it is the first thing written into the snapshot, and `empty` says
 * the snapshot's own tree holds nothing yet.
 */
export function beginApply(db: Connection, id: number, empty: boolean): void {
  const row = statement(db, 'SELECT kind, applied FROM snapshots WHERE id = ?').get(id) as { kind: string; applied: string | null } | undefined;
  if (row?.kind !== 'active') return;
  statement(db, 'UPDATE snapshots SET applied = ? WHERE id = ?').run(row.applied === null && empty ? 'applying' : 'mixed', id);
}

/** The Apply that began ends: with the layer's diff ID, or undefined when it failed and left who knows what. */
export function finishApply(db: Connection, id: number, diffId: string | undefined): void {
  statement(db, `UPDATE snapshots SET applied = CASE WHEN applied = 'applying' AND ? IS NOT NULL THEN ? ELSE 'mixed' END WHERE id = ? AND kind = 'active'`).run(
    diffId ?? null,
    diffId ?? null,
    id,
  );
}

interface ChainRow {
  chain_id: string | null;
  chain_trust: ChainTrust | null;
  ref: string | null;
}

function chainRow(db: Connection, id: number): ChainRow | undefined {
  return statement(
    db,
    `SELECT s.chain_id, s.chain_trust, l.value AS ref FROM snapshots s
     LEFT JOIN snapshot_labels l ON l.snapshot_id = s.id AND l.key = '${SNAPSHOT_REF_LABEL}'
     WHERE s.id = ?`,
  ).get(id) as ChainRow | undefined;
}

/**
 * Gives the snapshot `id`, being committed, its chain ID: from the diff ID
 * strata's Apply recorded and its parent's chain. A parent with no chain of
 * strata's own lends the one containerd labelled it with, as a trusted link.
 */
export function recordChain(db: Connection, id: number): void {
  const row = statement(db, 'SELECT applied, parent_id FROM snapshots WHERE id = ?').get(id) as { applied: string | null; parent_id: number | null };
  if (row.applied === null || !DIGEST.test(row.applied)) return;
  let chain: { id: string; trust: ChainTrust } | undefined;
  if (row.parent_id === null) {
    chain = { id: row.applied, trust: 'verified' };
  } else {
    const parent = chainRow(db, row.parent_id);
    if (parent?.chain_id && parent.chain_trust) chain = { id: chainId(parent.chain_id, row.applied), trust: parent.chain_trust };
    else if (parent?.ref && DIGEST.test(parent.ref)) chain = { id: chainId(parent.ref, row.applied), trust: 'trusted' };
  }
  if (chain) statement(db, 'UPDATE snapshots SET chain_id = ?, chain_trust = ? WHERE id = ?').run(chain.id, chain.trust, id);
}

/** What `mode` accepts as a committed snapshot holding `chain`, as SQL over snapshots s and its snapshot.ref label l. */
function holdsChain(mode: ShareMode): string {
  const verified = `(s.chain_id = @chain AND s.chain_trust = 'verified')`;
  if (mode === 'verified') return verified;
  return `(s.chain_id = @chain OR (s.chain_id IS NULL AND l.value = @chain))`;
}

/**
 * The committed snapshot on `parent` ('' for none) that holds `chain` and
 * carries it as its snapshot.ref label (what containerd's Walk then looks
 * for), as `mode` trusts it; undefined when there is none or mode is off.
 */
export interface Shareable {
  id: number;
  key: string;
  /** Its disk usage, and how long its first unpack took (its Prepare to Commit, or an early unpack's apply): what a client it is shared with does not spend. */
  size: number;
  firstUnpackNs: number;
}

export function findShareable(db: Connection, chain: string, parent: string, mode: ShareMode): Shareable | undefined {
  if (mode === 'off') return undefined;
  return statement(
    db,
    `SELECT s.id, s.key, COALESCE(s.size, 0) AS size, COALESCE(s.first_unpack_ns, 0) AS firstUnpackNs FROM snapshots s
     JOIN snapshot_labels l ON l.snapshot_id = s.id AND l.key = '${SNAPSHOT_REF_LABEL}' AND l.value = @chain
     LEFT JOIN snapshots p ON p.id = s.parent_id
     WHERE s.kind = 'committed' AND COALESCE(p.key, '') = @parent AND ${holdsChain(mode)}
     ORDER BY s.chain_id IS NULL, s.id LIMIT 1`,
  ).get({ chain, parent }) as Shareable | undefined;
}

/** Committed snapshots that hold `chain` as `mode` trusts them, oldest first: where a layer above it may go. */
export function snapshotsHoldingChain(db: Connection, chain: string, mode: ShareMode): string[] {
  if (mode === 'off') return [];
  const rows = statement(
    db,
    `SELECT s.key FROM snapshots s
     LEFT JOIN snapshot_labels l ON l.snapshot_id = s.id AND l.key = '${SNAPSHOT_REF_LABEL}'
     WHERE s.kind = 'committed' AND ${holdsChain(mode)} ORDER BY s.id`,
  ).all({ chain }) as { key: string }[];
  return rows.map((r) => r.key);
}

export function markSpeculative(db: Connection, id: number, speculative: boolean): void {
  statement(db, 'UPDATE snapshots SET speculative = ? WHERE id = ?').run(speculative ? 1 : 0, id);
}

/** Speculative snapshots no other snapshot stands on: the ones that can be removed first. */
export function speculativeLeaves(db: Connection): { key: string; kind: string; created_ns: bigint }[] {
  return statement(
    db,
    `SELECT s.key, s.kind, s.created_ns FROM snapshots s
     WHERE s.speculative = 1 AND NOT EXISTS (SELECT 1 FROM snapshots c WHERE c.parent_id = s.id)`,
  )
    .safeIntegers(true)
    .all() as { key: string; kind: string; created_ns: bigint }[];
}

export function isSpeculative(db: Connection, id: number): boolean {
  return (statement(db, 'SELECT speculative FROM snapshots WHERE id = ?').get(id) as { speculative: number } | undefined)?.speculative === 1;
}

export function isSpeculativeKey(db: Connection, key: string): boolean {
  return (statement(db, 'SELECT speculative FROM snapshots WHERE key = ?').get(key) as { speculative: number } | undefined)?.speculative === 1;
}

/** Whether an Apply into the snapshot `id` has begun that may vouch for its result. */
export function isApplying(db: Connection, id: number): boolean {
  return (statement(db, `SELECT applied FROM snapshots WHERE id = ? AND kind = 'active'`).get(id) as { applied: string | null } | undefined)?.applied === 'applying';
}

/** The chain of the parent of snapshot `id` as `mode` trusts it; '' for none, undefined when it has none `mode` accepts. */
export function parentChain(db: Connection, id: number, mode: ShareMode): string | undefined {
  const row = statement(db, 'SELECT parent_id FROM snapshots WHERE id = ?').get(id) as { parent_id: number | null } | undefined;
  if (!row || mode === 'off') return undefined;
  if (row.parent_id === null) return '';
  const parent = chainRow(db, row.parent_id);
  if (parent?.chain_id && (parent.chain_trust === 'verified' || mode === 'trusted')) return parent.chain_id;
  if (mode === 'trusted' && parent?.ref && DIGEST.test(parent.ref)) return parent.ref;
  return undefined;
}
