// Probes for overlayfs, the way containerd's overlayutils does, so that the
// mounts we hand out work on this kernel.
import { existsSync, readFileSync } from 'node:fs';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { filesystemType } from '../filesystem-type';
import { mountAt, unmount } from '../mount';

export interface OverlayFeatures {
  /** Mount options every overlay mount carries (index=off, userxattr). */
  options: string[];
}

/** Fails unless an overlay mount works on the filesystem holding dir. */
export async function probeOverlay(dir: string): Promise<OverlayFeatures> {
  const userxattr = runningInUserNamespace();
  const options: string[] = [];
  // With the index feature on, overlay refuses a lower dir that was used by
  // another mount with a different upper dir, which is how snapshots share parents.
  if (existsSync('/sys/module/overlay/parameters/index')) options.push('index=off');
  // Outside a user namespace trusted.overlay.* xattrs work and are what
  // containerd's applier writes, so userxattr is only for rootless setups.
  if (userxattr) options.push('userxattr');
  await tryOverlayMount(dir, options);
  return { options };
}

function runningInUserNamespace(): boolean {
  try {
    const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  } catch {
    return false;
  }
}

async function tryOverlayMount(dir: string, options: string[]): Promise<void> {
  const probe = await fs.mkdtemp(path.join(dir, 'overlay-probe-'));
  try {
    const [lower1, lower2, upper, work, merged] = ['lower1', 'lower2', 'upper', 'work', 'merged'].map((d) =>
      path.join(probe, d),
    );
    await Promise.all([lower1, lower2, upper, work, merged].map((d) => fs.mkdir(d)));
    const opts = [...options, `lowerdir=${lower2}:${lower1}`, `upperdir=${upper}`, `workdir=${work}`];
    try {
      await mountAt({ type: 'overlay', source: 'overlay', options: opts }, merged);
    } catch {
      // mount(8) says only "wrong fs type, bad option, ..."; what decides is
      // the filesystem under the root (overlay on overlay, some network ones).
      throw new Error(
        `overlayfs does not work under ${dir}, whose filesystem is ${await filesystemType(dir)}: Linux ${os.release()} refused a test overlay mount there; ` +
          'serve with --backend native, or put --root on a local filesystem such as ext4 or xfs',
      );
    }
    await unmount(merged);
  } finally {
    await fs.rm(probe, { recursive: true, force: true });
  }
}
