// A btrfs filesystem for containerd's btrfs snapshotter, whose root must be
// on btrfs: a sparse file, formatted and loop-mounted, removed again when
// the run ends.
import fs from 'node:fs';
import path from 'node:path';
import { unmountAllUnder } from './mounts';
import { run } from '../system';

/** Room enough for the largest input's snapshots; sparse, so only what is written takes space. */
const SIZE = 16 * 2 ** 30;

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (await fs.promises.access(path.join(dir, command), fs.constants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}

async function kernelHasBtrfs(): Promise<boolean> {
  const listed = async () => /\tbtrfs$/m.test(await fs.promises.readFile('/proc/filesystems', 'utf8'));
  if (await listed()) return true;
  // Built as a module, it is listed only once loaded.
  await run('modprobe', ['btrfs']).catch(() => undefined);
  return listed();
}

/** Why this machine cannot make one, or undefined: it needs mkfs.btrfs (btrfs-progs) and a kernel with btrfs. */
export async function btrfsMissing(): Promise<string | undefined> {
  if (!(await onPath('mkfs.btrfs'))) return 'mkfs.btrfs is not installed (Debian: apt-get install btrfs-progs)';
  if (!(await kernelHasBtrfs())) return 'this kernel has no btrfs (not in /proc/filesystems, and modprobe btrfs did not add it)';
  return undefined;
}

/** Mounts a fresh btrfs on `dir`, backed by the sparse file `${dir}.img`; the function it returns unmounts it and removes both. */
export async function mountBtrfs(dir: string): Promise<() => Promise<void>> {
  const image = `${dir}.img`;
  const remove = async () => {
    await unmountAllUnder(dir);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.rm(image, { force: true });
  };
  // What a killed run left behind goes first.
  await remove();
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(image, '');
  await fs.promises.truncate(image, SIZE);
  try {
    await run('mkfs.btrfs', ['--quiet', image]);
    // The loop device goes with the unmount (mount sets it to clear itself).
    await run('mount', ['-o', 'loop', image, dir]);
  } catch (err) {
    await remove();
    throw err;
  }
  return remove;
}
