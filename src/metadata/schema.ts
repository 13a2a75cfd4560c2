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
];
