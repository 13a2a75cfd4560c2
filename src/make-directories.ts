// mkdir -p that gives up. Node's recursive mkdir (fs-extra's mkdirp and
// ensureDir are it) reads ENOENT as "the parent is missing": it makes the
// parent, which exists, and tries the child again, for ever. procfs answers
// ENOENT to a mkdir of any new name, so mkdir -p /proc/x spun at full CPU and
// never failed. Here a parent that exists and still refuses its child is the
// answer.
import fs from 'node:fs/promises';
import path from 'node:path';

/** Makes `dir` and whatever parents it lacks, each with `mode` (less the umask); a directory already there is fine. */
export async function makeDirectories(dir: string, mode = 0o777): Promise<void> {
  const missingParent = await makeDirectory(dir, mode);
  if (!missingParent) return;
  const parent = path.dirname(dir);
  if (parent === dir) throw missingParent;
  await makeDirectories(parent, mode);
  const stillMissing = await makeDirectory(dir, mode);
  if (stillMissing) throw stillMissing;
}

/** mkdir: undefined once `dir` is a directory, the ENOENT when its parent seems missing; any other failure throws. */
async function makeDirectory(dir: string, mode: number): Promise<NodeJS.ErrnoException | undefined> {
  try {
    await fs.mkdir(dir, { mode });
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err as NodeJS.ErrnoException;
    // Something is there already: a directory (or a link to one) will do, a file will not.
    if (code === 'EEXIST' && (await fs.stat(dir).catch(() => undefined))?.isDirectory()) return undefined;
    throw err;
  }
}
