// fsync of a directory: makes renames and creations inside it durable. Only
// the fsync goes to the thread pool; opening and closing a directory take
// microseconds.
import fs from 'node:fs';
import { promisify } from 'node:util';

const fsync = promisify(fs.fsync);

export async function syncDirectory(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
