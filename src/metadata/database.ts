// The single SQLite database under --root that holds all of strata's
// metadata. Writes go through one connection, one transaction at a time
// (as bolt does for containerd); reads use a second connection so that they
// only ever see committed state.
import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema';
import { WalSync } from './wal-sync';

export type Connection = Database.Database;

export interface MetadataDatabase {
  readonly writer: Connection;
  readonly reader: Connection;
  /** Makes the writer's commits durable (synchronous = NORMAL leaves that to it). */
  readonly wal: WalSync;
  close(): void;
}

export function openMetadataDatabase(path: string): MetadataDatabase {
  const writer = new Database(path);
  writer.pragma('journal_mode = WAL');
  // A commit must be durable before the client hears of it, the point at
  // which containerd takes the change as stored. NORMAL leaves the log's
  // fsync to the Transactor, which groups concurrent commits into one.
  writer.pragma('synchronous = NORMAL');
  writer.pragma('foreign_keys = ON');
  writer.pragma('busy_timeout = 5000');
  migrate(writer);
  const reader = new Database(path, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  const wal = new WalSync(`${path}-wal`);
  return {
    writer,
    reader,
    wal,
    close() {
      reader.close();
      writer.close();
      wal.close();
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
