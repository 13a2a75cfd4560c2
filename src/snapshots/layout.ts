// Where snapshot data lives under --root: snapshots/<id>/fs is a snapshot's
// tree, snapshots/<id>/work is overlayfs' scratch dir for active snapshots,
// snapshots/<id>/overlay-markers what Apply deferred for a rebase (see
// diff/deferred-markers.ts), snapshots/new-* are directories still being prepared, and
// snapshots/removed-* are those of removed snapshots, being deleted.
import path from 'node:path';
import type { Mount } from './types';

export class SnapshotLayout {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'snapshots');
  }

  snapshotDir(id: number): string {
    return path.join(this.dir, String(id));
  }

  fsDir(id: number): string {
    return path.join(this.dir, String(id), 'fs');
  }

  removedDir(id: number): string {
    return path.join(this.dir, `removed-${id}`);
  }

  workDir(id: number): string {
    return path.join(this.dir, String(id), 'work');
  }

  markersFile(id: number): string {
    return path.join(this.dir, String(id), 'overlay-markers');
  }

  /**
   * The id of the active snapshot these mounts write into: a writable bind of
   * its tree, or an overlay with it as upper dir; undefined for any others.
   */
  idOfActiveMounts(mounts: readonly Mount[]): number | undefined {
    if (mounts.length !== 1) return undefined;
    const [mount] = mounts;
    if (mount.type === 'bind') return mount.options.includes('ro') ? undefined : this.idOfFsDir(mount.source);
    if (mount.type !== 'overlay') return undefined;
    const upper = mount.options.find((option) => option.startsWith('upperdir='));
    return upper === undefined ? undefined : this.idOfFsDir(upper.slice('upperdir='.length));
  }

  /** The id of the snapshot whose tree is `dir`, as fsDir() names it; undefined for any other path. */
  idOfFsDir(dir: string): number | undefined {
    const relative = path.relative(this.dir, dir);
    const match = /^(\d+)\/fs$/.exec(relative);
    return match ? Number(match[1]) : undefined;
  }
}
