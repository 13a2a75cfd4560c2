// Runs async operations as single SQLite write transactions. better-sqlite3's
// own transaction() only takes synchronous functions, but snapshot operations
// must do filesystem work (copies, renames) inside the transaction, so we
// serialise writers with a queue and drive BEGIN/COMMIT ourselves.
import type { Connection } from './database';

export class Transactor {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Connection) {}

  /** Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back if fn throws. */
  run<T>(fn: (db: Connection) => Promise<T> | T): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.db);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  /** Runs fn with no other writer active, without opening a transaction. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
