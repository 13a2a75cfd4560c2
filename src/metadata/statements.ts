// Compiled statements, kept per connection: compiling a statement costs
// about thirty times what running it does, and every operation runs several.
import type { Statement } from 'better-sqlite3';
import type { Connection } from './database';

const compiled = new WeakMap<Connection, Map<string, Statement>>();

/** db.prepare(sql), compiled once. Integers come back as numbers unless the caller asks for safeIntegers. */
export function statement(db: Connection, sql: string): Statement {
  let statements = compiled.get(db);
  if (!statements) {
    statements = new Map();
    compiled.set(db, statements);
  }
  let prepared = statements.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared.safeIntegers(false);
}
