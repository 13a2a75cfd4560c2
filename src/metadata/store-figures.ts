// Counts and sizes of what the store holds, for the metrics: one read
// transaction of a few aggregate queries, never a walk of the disk.
import fs from 'node:fs';
import type { StoreFigures } from '../metrics/metrics';
import type { MetadataDatabase } from './database';
import { statement } from './statements';

export function storeFigures(db: MetadataDatabase, file: string): StoreFigures {
  return db.reader.transaction(() => {
    const snapshots = { active: 0, committed: 0, view: 0 };
    let committedBytes = 0;
    for (const row of statement(db.reader, 'SELECT kind, count(*) AS n, sum(size) AS bytes FROM snapshots GROUP BY kind').all() as {
      kind: keyof typeof snapshots;
      n: number;
      bytes: number;
    }[]) {
      snapshots[row.kind] = row.n;
      if (row.kind === 'committed') committedBytes = row.bytes;
    }
    const blobs = statement(db.reader, 'SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs').get() as { n: number; bytes: number };
    const ingests = statement(db.reader, 'SELECT count(*) AS n FROM ingests').get() as { n: number };
    const size = (path: string) => fs.statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return {
      snapshots,
      blobs: blobs.n,
      ingests: ingests.n,
      diskBytes: { snapshots: committedBytes, content: blobs.bytes, metadata: size(file) + size(`${file}-wal`) },
    };
  })();
}
