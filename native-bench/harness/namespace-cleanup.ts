// Removing a namespace from a containerd that is not ours, with everything
// in it: tasks, containers, images, leases, snapshots of each snapshotter,
// content, then the namespace itself. Only that namespace is touched; what
// its removal leaves unreferenced, containerd's garbage collection deletes
// before the namespace goes.
import type { ContainerdClient } from './containerd';

const lines = (printed: string) =>
  printed
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/** Keys of the namespace's snapshots (the first column of `ctr snapshots ls`, below its header). */
const snapshotKeys = (printed: string) => lines(printed).slice(1).map((line) => line.split(/\s+/)[0]);

/** A lease of the cleanup's own, so that there is always one whose synchronous removal runs a collection. */
const CLEANUP_LEASE = 'strata-bench-cleanup';

export async function removeNamespace(containerd: ContainerdClient, namespace: string, snapshotters: string[]): Promise<void> {
  if (!lines(await containerd.ctr(['namespaces', 'ls', '--quiet'])).includes(namespace)) return;
  const ctr = (args: string[]) => containerd.ctr(args, namespace);
  for (const task of lines(await ctr(['tasks', 'ls', '--quiet']))) await ctr(['tasks', 'rm', '--force', task]);
  const containers = lines(await ctr(['containers', 'ls', '--quiet']));
  if (containers.length > 0) await ctr(['containers', 'rm', ...containers]);
  const images = lines(await ctr(['images', 'ls', '--quiet']));
  if (images.length > 0) await ctr(['images', 'rm', ...images]);
  // Every lease, those of a ctr killed mid-pull included (one that expired
  // meanwhile is gone already); the last removal collects what they held.
  await ctr(['leases', 'create', '--id', CLEANUP_LEASE]);
  for (const lease of lines(await ctr(['leases', 'ls', '--quiet'])).filter((id) => id !== CLEANUP_LEASE)) {
    await ctr(['leases', 'rm', lease]).catch((err: Error) => {
      if (!/not found/.test(err.message)) throw err;
    });
  }
  await ctr(['leases', 'rm', '--sync', CLEANUP_LEASE]);
  // What no lease held and the collection kept: children before parents, a pass at a time.
  for (const snapshotter of snapshotters) {
    for (let left = snapshotKeys(await ctr(['snapshots', '--snapshotter', snapshotter, 'ls'])); left.length > 0; ) {
      for (const key of left) await ctr(['snapshots', '--snapshotter', snapshotter, 'rm', key]).catch(() => undefined);
      const now = snapshotKeys(await ctr(['snapshots', '--snapshotter', snapshotter, 'ls']));
      if (now.length === left.length) throw new Error(`${snapshotter} keeps snapshots in namespace ${namespace}: ${now.join(', ')}`);
      left = now;
    }
  }
  const blobs = lines(await ctr(['content', 'ls', '--quiet']));
  if (blobs.length > 0) await ctr(['content', 'rm', ...blobs]);
  await containerd.ctr(['namespaces', 'rm', namespace]);
}
