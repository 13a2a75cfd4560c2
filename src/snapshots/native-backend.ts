// Full copies: an active snapshot starts as a copy of its parent and is
// bind-mounted, as containerd's snapshots/native does.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { bind, type Backend } from './backend';
import type { SnapshotLayout } from './layout';
import type { Mount, SnapshotRef } from './types';

const run = promisify(execFile);

export class NativeBackend implements Backend {
  readonly name = 'native';

  async populate(tempDir: string, ref: SnapshotRef, layout: SnapshotLayout): Promise<void> {
    // A view of a parent binds the parent itself read-only; nothing to copy.
    if (ref.kind !== 'active' || ref.parentIds.length === 0) return;
    // GNU cp -a keeps modes, owners, times, xattrs, hardlinks, devices and
    // fifos, and --reflink=auto shares extents where the filesystem can.
    await run('cp', ['-a', '--reflink=auto', '--', `${layout.fsDir(ref.parentIds[0])}/.`, path.join(tempDir, 'fs')]);
  }

  mounts(ref: SnapshotRef, layout: SnapshotLayout): Mount[] {
    const source = ref.kind === 'view' && ref.parentIds.length > 0 ? ref.parentIds[0] : ref.id;
    return [bind(layout.fsDir(source), ref.kind === 'view')];
  }
}
