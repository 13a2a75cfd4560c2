// Schema migrations, applied in order; the database's user_version counts how
// many have run. Never edit a shipped migration: append a new one.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE snapshots (
    -- AUTOINCREMENT: an id is never reused, so a directory left behind by a
    -- removed snapshot can never be mistaken for a live one.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES snapshots(id),
    kind TEXT NOT NULL CHECK (kind IN ('view', 'active', 'committed')),
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    -- Disk usage, recorded when the snapshot is committed.
    size INTEGER NOT NULL DEFAULT 0,
    inodes INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX snapshots_by_parent ON snapshots(parent_id);
  CREATE TABLE snapshot_labels (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, key)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
  );
  CREATE TABLE blob_labels (
    digest TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (digest, key)
  ) WITHOUT ROWID;
  -- An ingest's offset is the size of its data file; everything else is here.
  CREATE TABLE ingests (
    ref TEXT PRIMARY KEY,
    dir TEXT NOT NULL UNIQUE,
    total INTEGER NOT NULL,
    expected TEXT NOT NULL,
    started_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
  );
  `,
  `
  -- What strata knows of a snapshot's content as an unpacked layer (see
  -- unpack/layer-sharing.ts). applied: the diff ID of the one layer strata's
  -- own Apply wrote into the active snapshot while it was empty, 'applying'
  -- while that Apply runs, or 'mixed' once anything else may have written.
  -- chain_id: the layer's chain ID, computed at Commit from applied and the
  -- parent's chain; chain_trust says whether strata computed every link
  -- itself ('verified') or took a link from containerd's label ('trusted').
  -- speculative: made by strata ahead of containerd's unpacker and not yet
  -- handed to it; such a snapshot is strata's to remove.
  ALTER TABLE snapshots ADD COLUMN applied TEXT;
  ALTER TABLE snapshots ADD COLUMN chain_id TEXT;
  ALTER TABLE snapshots ADD COLUMN chain_trust TEXT CHECK (chain_trust IN ('verified', 'trusted'));
  ALTER TABLE snapshots ADD COLUMN speculative INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX snapshots_by_chain_id ON snapshots(chain_id);
  `,
  `
  -- first_unpack_ns: how long a committed snapshot took from its Prepare to
  -- its Commit: for a layer, its fetch and unpack, which a client it is
  -- shared with skips (strata_layer_seconds_saved_total).
  ALTER TABLE snapshots ADD COLUMN first_unpack_ns INTEGER;
  `,
];
