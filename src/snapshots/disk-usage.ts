// Disk usage as containerd's continuity fs.DiskUsage counts it: allocated
// blocks and inodes, each hardlinked inode counted once. The walk is native
// (src/native/disk-usage.c): Commit runs it over every layer unpacked.
import { syscalls } from '../native/syscalls';
import type { Usage } from './types';

export function diskUsage(root: string): Promise<Usage> {
  return syscalls.diskUsage(root);
}
