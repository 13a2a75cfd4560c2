// Where snapshot data lives under --root: snapshots/<id>/fs is a snapshot's
// tree, snapshots/<id>/work is overlayfs' scratch dir for active snapshots,
// snapshots/new-* are directories still being prepared, and
// snapshots/removed-* are those of removed snapshots, being deleted.
import path from 'node:path';

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
}
