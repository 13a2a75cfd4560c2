// The single SQLite database under --root that holds all of strata's
// metadata. Writes go through one connection, one transaction at a time
// (as bolt does for containerd); reads use a second connection so that they
// only ever see committed state.
import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema';

export type Connection = Database.Database;

export interface MetadataDatabase {
  readonly writer: Connection;
  readonly reader: Connection;
  close(): void;
}

export function openMetadataDatabase(path: string): MetadataDatabase {
  const writer = new Database(path);
  writer.pragma('journal_mode = WAL');
  // FULL makes every commit durable before we answer the client, which is the
  // point at which containerd assumes the change is stored.
  writer.pragma('synchronous = FULL');
  writer.pragma('foreign_keys = ON');
  writer.pragma('busy_timeout = 5000');
  migrate(writer);
  const reader = new Database(path, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  return {
    writer,
    reader,
    close() {
      reader.close();
      writer.close();
    },
  };
}

function migrate(db: Connection): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`metadata schema version ${current} is newer than this strata (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]);
    }
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}
