// fsync of a directory: makes renames and creations inside it durable.
import fs from 'node:fs/promises';

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
