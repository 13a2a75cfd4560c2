// /healthz's checks: the metadata database answers, and the root is writable with space left.
import { constants as fsConstants } from 'node:fs';
import fs from 'fs-extra';
import type { MetadataDatabase } from '../metadata/database';
import { statement } from '../metadata/statements';
import type { Health } from './http-endpoint';

/** /healthz: the database answers and the root is writable with space left. */
export function storeHealth(db: MetadataDatabase, root: string): () => Promise<Health> {
  return async () => {
    const checks: Record<string, string> = {};
    try {
      statement(db.reader, 'SELECT count(*) FROM snapshots WHERE id = 0').get();
      checks.database = 'ok';
    } catch (err) {
      checks.database = (err as Error).message;
    }
    try {
      await fs.access(root, fsConstants.W_OK);
      const space = await fs.promises.statfs(root);
      checks.root = space.bavail > 0 ? 'ok' : `no space left on ${root}`;
    } catch (err) {
      checks.root = (err as Error).message;
    }
    return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
  };
}
