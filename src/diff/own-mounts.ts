// Diff mounts what a client hands it, as root. Unless the config allows
// other snapshotters' mounts, only strata's own are taken: a bind or an
// overlay whose every directory is inside strata's snapshots. Otherwise a
// socket client could bind the host's / and Apply into it, or Compare
// /etc/shadow into a blob.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../errdefs';
import type { Mount } from '../snapshots/types';

const OVERLAY_DIRS = ['lowerdir', 'upperdir', 'workdir'];

export type MountCheck = (mounts: readonly Mount[]) => void;

/** Accepts anything: [diff] foreign_mounts = true. */
export const anyMounts: MountCheck = () => undefined;

export function ownMountsOnly(snapshotsDir: string): MountCheck {
  const inside = realpathSync(snapshotsDir) + path.sep;
  return (mounts) => {
    for (const mount of mounts) {
      for (const dir of directoriesOf(mount)) {
        if (!isInside(dir, inside)) {
          throw invalidArgument(`mount ${mount.type} of ${dir} is not one of strata's snapshots ([diff] foreign_mounts = true allows it)`);
        }
      }
    }
  };
}

function directoriesOf(mount: Mount): string[] {
  if (mount.type === 'bind') return [mount.source];
  if (mount.type !== 'overlay') throw invalidArgument(`mount type ${JSON.stringify(mount.type)} is not one strata makes ([diff] foreign_mounts = true allows it)`);
  const dirs: string[] = [];
  for (const option of mount.options) {
    const [name, value] = splitOption(option);
    if (!OVERLAY_DIRS.includes(name)) continue;
    dirs.push(...(name === 'lowerdir' ? value.split(':') : [value]));
  }
  if (dirs.length === 0) throw invalidArgument('overlay mount without lowerdir');
  return dirs;
}

function splitOption(option: string): [string, string] {
  const at = option.indexOf('=');
  return at < 0 ? [option, ''] : [option.slice(0, at), option.slice(at + 1)];
}

/** Beneath it after every link is followed: a link in a snapshot that leads out does not count. */
function isInside(dir: string, inside: string): boolean {
  if (!path.isAbsolute(dir)) return false;
  try {
    const real = realpathSync(dir) + path.sep;
    return real.startsWith(inside) && real !== inside;
  } catch {
    return false;
  }
}
