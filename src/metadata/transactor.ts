// Runs async operations as single SQLite write transactions. better-sqlite3's
// own transaction() only takes synchronous functions, but snapshot operations
// must do filesystem work (copies, renames) inside the transaction, so we
// serialise writers with a queue and drive BEGIN/COMMIT ourselves.
import type { Connection } from './database';
import { statement } from './statements';

export class Transactor {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Connection) {}

  /**
   * Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back if fn throws.
   * afterCommit runs once the commit landed, before any other writer.
   */
  run<T>(fn: (db: Connection) => Promise<T> | T, afterCommit?: (result: T) => Promise<unknown>): Promise<T> {
    return this.exclusive(async () => {
      statement(this.db, 'BEGIN IMMEDIATE').run();
      let result: T;
      try {
        result = await fn(this.db);
        statement(this.db, 'COMMIT').run();
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
      await afterCommit?.(result);
      return result;
    });
  }

  /** Runs fn with no other writer active, without opening a transaction. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
