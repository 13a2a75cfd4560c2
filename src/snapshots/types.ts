// Domain types of the snapshot service, free of any wire format.
import type { Nanos } from '../clock';

export type Kind = 'view' | 'active' | 'committed';

export type Labels = Record<string, string>;

export interface Info {
  name: string;
  parent: string;
  kind: Kind;
  created: Nanos;
  updated: Nanos;
  labels: Labels;
}

export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export interface Usage {
  size: number;
  inodes: number;
}

/** A stored snapshot as a backend sees it: its id and its ancestors' ids, nearest first. */
export interface SnapshotRef {
  id: number;
  kind: Kind;
  parentIds: number[];
}

/** What an Apply tells the snapshotter of the active snapshot it writes into. */
export interface ApplyTarget {
  /** The snapshot's own tree (its upper dir, for overlayfs). */
  tree: string;
  /** Where the Apply records the overlay markers a rebase needs, for a snapshot a Commit may give a parent. */
  markersFile?: string;
  /**
   * Before the Apply writes anything: the layer's diff ID and size if its
   * tree was already unpacked early and is now this snapshot's, so that the
   * Apply has nothing left to do.
   */
  takeEarly(layerDigest: string): Promise<{ diffId: string; size: number } | undefined>;
  /** The Apply is over: the layer's diff ID, or undefined if it failed. */
  finish(diffId: string | undefined): Promise<void>;
}

export interface Snapshotter {
  prepare(key: string, parent: string, labels: Labels): Promise<Mount[]>;
  view(key: string, parent: string, labels: Labels): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  /** `parent` names one for a snapshot created without (containerd 2.2's rebase); '' keeps the snapshot's own. */
  commit(name: string, key: string, labels: Labels, parent?: string): Promise<void>;
  /** `precondition` runs first in the transaction, and may throw to leave the snapshot be. */
  remove(key: string, precondition?: () => void): Promise<void>;
  stat(key: string): Promise<Info>;
  update(name: string, labels: Labels, fieldpaths: readonly string[]): Promise<Info>;
  list(filters: readonly string[]): Promise<Info[]>;
  usage(key: string): Promise<Usage>;
  cleanup(): Promise<void>;
  close(): Promise<void>;
}
