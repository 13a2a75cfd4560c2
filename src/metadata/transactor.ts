// Runs async operations as single SQLite write transactions. better-sqlite3's
// own transaction() only takes synchronous functions, but snapshot operations
// must do filesystem work (copies, renames) inside the transaction, so we
// serialise writers with a queue and drive BEGIN/COMMIT ourselves.
import type { Connection, MetadataDatabase } from './database';
import { statement } from './statements';
import type { WalSync } from './wal-sync';

export class Transactor {
  private tail: Promise<unknown> = Promise.resolve();
  private committed = 0;
  private readonly db: Connection;
  private readonly wal: WalSync;

  constructor(database: MetadataDatabase) {
    this.db = database.writer;
    this.wal = database.wal;
  }

  /**
   * Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back if fn throws, and
   * resolves once the commit is durable. The next writer may start while this
   * one's fsync runs, so that concurrent commits share one. afterCommit runs
   * once the commit is durable, before any other writer: deleting what the
   * transaction dropped must never outrun the commit itself.
   */
  async run<T>(fn: (db: Connection) => Promise<T> | T, afterCommit?: (result: T) => Promise<unknown>): Promise<T> {
    if (!afterCommit) {
      const result = await this.exclusive(() => this.transaction(fn));
      await this.wal.flush();
      return result;
    }
    return this.exclusive(async () => {
      const result = await this.transaction(fn);
      await this.wal.flush();
      await afterCommit(result);
      return result;
    });
  }

  private async transaction<T>(fn: (db: Connection) => Promise<T> | T): Promise<T> {
    statement(this.db, 'BEGIN IMMEDIATE').run();
    try {
      const result = await fn(this.db);
      statement(this.db, 'COMMIT').run();
      this.committed++;
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * Transactions committed so far. Read inside a transaction, it tells
   * whether anything was written since an earlier reading.
   */
  get commits(): number {
    return this.committed;
  }

  /** Runs fn with no other writer active, without opening a transaction. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
