// Labels live in one table per kind of owner (snapshot id, blob digest).
// containerd stores no empty values: a label set to "" is a removed label.
import type { Connection } from './database';
import { statement } from './statements';

export type Labels = Record<string, string>;

export class LabelTable<Owner extends string | number> {
  constructor(
    private readonly table: string,
    private readonly ownerColumn: string,
  ) {}

  read(db: Connection, owner: Owner): Labels {
    const rows = statement(db, `SELECT key, value FROM ${this.table} WHERE ${this.ownerColumn} = ?`)
      .all(owner) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** Every owner's labels, for listing without one query per owner. */
  readAll(db: Connection): Map<Owner, Labels> {
    const all = new Map<Owner, Labels>();
    const rows = statement(db, `SELECT ${this.ownerColumn} AS owner, key, value FROM ${this.table}`).all() as {
      owner: Owner;
      key: string;
      value: string;
    }[];
    for (const { owner, key, value } of rows) {
      const labels = all.get(owner) ?? {};
      // Defined, not assigned: a label named __proto__ is a label like any other.
      Object.defineProperty(labels, key, { value, enumerable: true, writable: true, configurable: true });
      all.set(owner, labels);
    }
    return all;
  }

  write(db: Connection, owner: Owner, labels: Labels): void {
    statement(db, `DELETE FROM ${this.table} WHERE ${this.ownerColumn} = ?`).run(owner);
    const insert = statement(db, `INSERT INTO ${this.table} (${this.ownerColumn}, key, value) VALUES (?, ?, ?)`);
    for (const [key, value] of Object.entries(labels)) {
      if (value !== '') insert.run(owner, key, value);
    }
  }
}
