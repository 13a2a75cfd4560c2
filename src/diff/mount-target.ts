// Turns the mounts of an active snapshot into a directory to apply into. A
// single overlay mount is written through its upper dir directly, as
// containerd does, so whiteouts become overlay's own; anything else is
// mounted on a temporary directory for the duration.
import fs from 'fs-extra';
import path from 'node:path';
import { invalidArgument } from '../errdefs';
import { mountAt, unmount } from '../mount';
import type { Mount } from '../snapshots/types';
import type { ApplyTarget } from './tar-applier';

function option(mount: Mount, name: string): string | undefined {
  const prefix = `${name}=`;
  return mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}

export async function withApplyTarget<T>(
  mounts: Mount[],
  scratch: string,
  fn: (target: ApplyTarget) => Promise<T>,
): Promise<T> {
  if (mounts.length === 0) throw invalidArgument('no mounts to apply to');
  if (mounts.length === 1 && mounts[0].type === 'overlay') {
    const upper = option(mounts[0], 'upperdir');
    const lower = option(mounts[0], 'lowerdir');
    if (upper) {
      const opaqueXattr = mounts[0].options.includes('userxattr') ? 'user.overlay.opaque' : 'trusted.overlay.opaque';
      return fn({ root: upper, overlay: { parents: lower ? lower.split(':') : [], opaqueXattr } });
    }
  }
  if (mounts.length === 1 && mounts[0].type === 'bind' && !mounts[0].options.includes('ro')) {
    return fn({ root: mounts[0].source });
  }
  await fs.mkdirp(scratch);
  const target = await fs.mkdtemp(path.join(scratch, 'apply-'));
  const mounted: string[] = [];
  try {
    for (const m of mounts) {
      await mountAt(m, target);
      mounted.push(target);
    }
    return await fn({ root: target });
  } finally {
    for (const m of mounted.reverse()) await unmount(m);
    await fs.rmdir(target);
  }
}
