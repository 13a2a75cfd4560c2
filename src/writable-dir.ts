// A directory a flag names for a command to write into, checked before the
// command does anything: a long run that could not write its results at the
// end would have been for nothing.
import fs from 'node:fs';
import path from 'node:path';
import { makeDirectories } from './make-directories';
import { systemErrorText } from './system-error';
import { UsageError } from './usage-error';

/** Fails with bad usage unless `dir` is a directory this process can write in, or one it can create; leaves nothing made. */
export async function checkWritableDir(dir: string, flag: string): Promise<void> {
  const target = path.resolve(dir);
  const fail = (at: string, why: string) => new UsageError(at === target ? `${flag} ${dir} ${why}` : `${flag} ${dir}: ${at} ${why}`);
  // The directory itself, or the nearest ancestor there is: that one is written in to make the rest.
  let existing = target;
  for (;;) {
    const stat = await fs.promises.stat(existing).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw fail(existing, `cannot be reached (${err.code === 'EACCES' ? 'permission denied' : err.code})`);
    });
    if (stat) {
      if (!stat.isDirectory()) throw fail(existing, 'is not a directory');
      break;
    }
    existing = path.dirname(existing);
  }
  try {
    await fs.promises.access(existing, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw fail(existing, (err as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only file system' : 'is not writable');
  }
  if (existing === target) return;
  // What mkdir says is the answer (procfs takes no new name, whatever access
  // says for root): the directories are made, then taken away again.
  const made: string[] = [];
  for (let missing = target; missing !== existing; missing = path.dirname(missing)) made.push(missing);
  try {
    await makeDirectories(target);
  } catch (err) {
    throw new UsageError(`${flag} ${dir}: ${systemErrorText(err)}`);
  } finally {
    for (const missing of made) await fs.promises.rmdir(missing).catch(() => undefined);
  }
}
