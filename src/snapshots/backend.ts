// A backend decides what a snapshot's directory holds and how it is mounted;
// everything else (metadata, transactions, renames, cleanup) is shared.
import type { SnapshotLayout } from './layout';
import type { Mount, SnapshotRef } from './types';

export type BackendName = 'overlayfs' | 'native';

export const BACKEND_NAMES: readonly BackendName[] = ['overlayfs', 'native'];

export interface Backend {
  readonly name: BackendName;
  /**
   * Fills a new snapshot's directory. tempDir already holds an empty fs/
   * (mode 0755); it is renamed to the snapshot's own directory afterwards.
   */
  populate(tempDir: string, ref: SnapshotRef, layout: SnapshotLayout): Promise<void>;
  /** Mounts of an active snapshot or a view. */
  mounts(ref: SnapshotRef, layout: SnapshotLayout): Mount[];
  /**
   * Makes a snapshot prepared without a parent the top of `ref.parentIds`,
   * as it is committed (containerd 2.2's parallel unpack). A backend
   * without it refuses such a Commit. With `exact`, it refuses (with
   * FailedPrecondition) a layer whose result a sequential unpack onto those
   * parents would have made differently.
   */
  rebase?(ref: SnapshotRef, layout: SnapshotLayout, exact?: boolean): Promise<void>;
}

export function bind(source: string, readonly: boolean): Mount {
  return { type: 'bind', source, options: [readonly ? 'ro' : 'rw', 'rbind'] };
}
