// The --root directory: only root may enter it, and strata follows no link
// inside it. A link planted at one of its fixed names (snapshots, content,
// the database) would send strata's writes, deletes and chowns elsewhere.
import fs from 'fs-extra';
import path from 'node:path';

/** What strata creates directly under --root and below content/. */
const FIXED_ENTRIES = ['lock', 'metadata.db', 'metadata.db-wal', 'metadata.db-shm', 'snapshots', 'content', 'content/blobs', 'content/ingest', 'tmp'];

export async function prepareRoot(root: string): Promise<void> {
  await fs.mkdirp(root, { mode: 0o700 });
  await fs.chmod(root, 0o700);
  for (const entry of FIXED_ENTRIES) {
    const stat = await fs.lstat(path.join(root, entry)).catch(() => undefined);
    if (stat?.isSymbolicLink()) throw new Error(`${path.join(root, entry)} is a symbolic link; strata follows no link inside its root`);
  }
}
