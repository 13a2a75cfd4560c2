// Turns the mounts of an active snapshot into a directory to apply into. A
// single overlay mount is written through its upper dir directly, as
// containerd does, so whiteouts become overlay's own; anything else is
// mounted on a temporary directory for the duration.
import fs from 'fs-extra';
import path from 'node:path';
import { invalidArgument } from '../errdefs';
import { mountAt, unmount } from '../mount';
import { opaqueXattr } from './overlay-markers';
import type { Mount } from '../snapshots/types';
import type { ApplyTarget } from './tar-applier';

function option(mount: Mount, name: string): string | undefined {
  const prefix = `${name}=`;
  return mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}

/**
 * A read-only version of a mount, as containerd's readonlyOverlay: an active
 * overlay's upper dir becomes its top lower dir, so mounting it a second time
 * never shares the upper and work dirs with the container using it.
 */
function readonlyMount(mount: Mount): Mount {
  if (mount.type !== 'overlay') return { ...mount, options: [...mount.options.filter((o) => o !== 'rw'), 'ro'] };
  const upper = option(mount, 'upperdir');
  const options = mount.options
    .filter((o) => !o.startsWith('upperdir=') && !o.startsWith('workdir='))
    .map((o) => (upper && o.startsWith('lowerdir=') ? `lowerdir=${upper}:${o.slice('lowerdir='.length)}` : o));
  return { ...mount, options };
}

/** Runs fn on a directory showing the mounts; bind mounts are used in place where that is safe. */
export async function withMounted<T>(
  mounts: Mount[],
  scratch: string,
  readonly: boolean,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  if (mounts.length === 0) throw invalidArgument('no mounts given');
  // A read-only bind may be a view of a committed parent: only read it in place.
  if (mounts.length === 1 && mounts[0].type === 'bind' && (readonly || !mounts[0].options.includes('ro'))) {
    return fn(mounts[0].source);
  }
  await fs.mkdirp(scratch);
  const target = await fs.mkdtemp(path.join(scratch, 'mount-'));
  let mounted = 0;
  try {
    for (const m of mounts) {
      await mountAt(readonly ? readonlyMount(m) : m, target);
      mounted++;
    }
    return await fn(target);
  } finally {
    for (; mounted > 0; mounted--) await unmount(target).catch(() => unmount(target, { lazy: true }));
    // Never remove a directory something may still be mounted on.
    await fs.rmdir(target).catch(() => undefined);
  }
}

export async function withApplyTarget<T>(
  mounts: Mount[],
  scratch: string,
  fn: (target: ApplyTarget) => Promise<T>,
): Promise<T> {
  if (mounts.length === 1 && mounts[0].type === 'overlay') {
    const upper = option(mounts[0], 'upperdir');
    const lower = option(mounts[0], 'lowerdir');
    if (upper) return fn({ root: upper, overlay: { parents: lower ? lower.split(':') : [], opaqueXattr: opaqueXattr(mounts[0].options) } });
  }
  return withMounted(mounts, scratch, false, (root) => fn({ root }));
}
