// Disk usage as containerd's continuity fs.DiskUsage counts it: allocated
// blocks and inodes, each hardlinked inode counted once.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Usage } from './types';

export async function diskUsage(root: string): Promise<Usage> {
  const seen = new Set<bigint>();
  let size = 0n;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    const st = await fs.lstat(dir, { bigint: true });
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      size += st.blocks * 512n;
    }
    if (!st.isDirectory()) continue;
    for (const entry of await fs.readdir(dir)) pending.push(path.join(dir, entry));
  }
  return { size: Number(size), inodes: seen.size };
}
