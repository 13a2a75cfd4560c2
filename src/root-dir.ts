// The --root directory: only root may enter it, one strata at a time uses it,
// and strata follows no link inside it. A link planted at one of its fixed
// names (snapshots, content, the database) would send strata's writes,
// deletes and chowns elsewhere.
import fs from 'node:fs/promises';
import path from 'node:path';
import { failedPrecondition, StrataError } from './errdefs';
import { makeDirectories } from './make-directories';
import { syscalls } from './native/syscalls';
import { systemErrorText } from './system-error';

/** What strata creates directly under --root and below content/. */
const FIXED_ENTRIES = ['lock', 'metadata.db', 'metadata.db-wal', 'metadata.db-shm', 'snapshots', 'content', 'content/blobs', 'content/ingest', 'tmp'];

/**
 * Makes the root if it is missing, checks it, takes its lock (held until the
 * process exits) and closes it to all but root. Making the lock file proves
 * files can be made there, and only then is the mode changed: a directory
 * that cannot be a root (/proc, which root may chmod) is left as it was.
 */
export async function prepareRoot(root: string): Promise<void> {
  try {
    await makeDirectories(root, 0o700);
    await refuseLinks(root);
    lock(root);
    await fs.chmod(root, 0o700);
  } catch (err) {
    if (err instanceof StrataError) throw err;
    throw failedPrecondition(`cannot use ${root} as root: ${systemErrorText(err)}`);
  }
}

async function refuseLinks(root: string): Promise<void> {
  for (const entry of FIXED_ENTRIES) {
    const stat = await fs.lstat(path.join(root, entry)).catch(() => undefined);
    if (stat?.isSymbolicLink()) throw failedPrecondition(`${path.join(root, entry)} is a symbolic link; strata follows no link inside its root`);
  }
}

/** Two servers sharing one root would sweep each other's work in progress. */
function lock(root: string): void {
  try {
    syscalls.lockExclusive(path.join(root, 'lock'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') throw failedPrecondition(`${root} is in use by another strata`);
    throw err;
  }
}
