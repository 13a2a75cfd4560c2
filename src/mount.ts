// Mounting through mount(8), which knows every filesystem's option syntax
// (and, for overlay, how to pass long lowerdir lists).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Mount } from './snapshots/types';

const run = promisify(execFile);

export async function mountAt(mount: Mount, target: string): Promise<void> {
  const args = ['-t', mount.type, mount.source, target];
  if (mount.options.length > 0) args.push('-o', mount.options.join(','));
  await run('mount', args);
}

export async function unmount(target: string): Promise<void> {
  await run('umount', [target]);
}
