// What the suite measures and reports. Every figure is a set of samples,
// one per interleaved repetition, summarised in the report.
import type { SnapshotterPlugin } from './harness/containerd-plugins';
import type { Summary } from './stats';

/** Where an unpack's time goes. */
export type Phase = 'decompress' | 'parse' | 'write' | 'metadata' | 'sync';
export const PHASES: readonly Phase[] = ['decompress', 'parse', 'write', 'metadata', 'sync'];

export interface Sample {
  seconds: number;
  /** Phase times, where the arm can tell them apart. */
  phases?: Partial<Record<Phase, number>>;
  /** Peak resident memory of the process doing the work (strata, or the reference program). */
  peakRssBytes?: number;
  /** Seconds, while the arm ran (its cleanup included), in which some task on the machine waited for I/O. */
  ioStallSeconds?: number;
  /** Layers whose Apply took the tree of an early unpack (strata's layers in parallel). */
  layersUnpackedEarly?: number;
}

export type Group = 'unpack' | 'containerd' | 'decompress' | 'snapshots' | 'content';

export interface Measurement {
  group: Group;
  arm: string;
  /** The input image, or the snapshot or content scenario. */
  subject: string;
  compression?: string;
  /** Uncompressed bytes and tar entries handled per sample, for MB/s and files/s. */
  bytes?: number;
  files?: number;
  samples: Sample[];
}

export interface SummarisedMeasurement extends Omit<Measurement, 'samples'> {
  seconds: Summary;
  phases: Partial<Record<Phase, number>>;
  peakRssBytes?: number;
  /** Mean over the samples. */
  ioStallSeconds?: number;
  /** The fewest in any sample. */
  layersUnpackedEarly?: number;
  mbPerSecond?: number;
  filesPerSecond?: number;
}

/** One operation's latencies in a snapshot scenario. */
export interface OperationFigures {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  opsPerSecond: number;
}

export interface SnapshotScenario {
  target: 'strata' | 'containerd';
  depth: number;
  clients: number;
  operations: Record<string, OperationFigures>;
  /** Prepare, Mounts, Commit, Stat, View and the two Removes, one after the other. */
  round: OperationFigures;
  /** Each repetition's round p50, summarised: the spread a comparison with another run needs. Absent from older reports. */
  roundP50MsPerRepetition?: Summary;
}

/** How the ratios and comparisons name a snapshot scenario. */
export const snapshotSubject = (s: Pick<SnapshotScenario, 'depth' | 'clients'>) => `depth ${s.depth}, ${s.clients} client${s.clients > 1 ? 's' : ''}`;

export interface ContentScenario {
  target: 'strata' | 'containerd';
  writers: number;
  blobMiB: number;
  writeMiBPerSecond: Summary;
  readMiBPerSecond: Summary;
}

/** How the ratios and comparisons name a content scenario. */
export const contentSubject = (c: Pick<ContentScenario, 'writers'>) => `${c.writers} writer${c.writers > 1 ? 's' : ''}`;

export interface Ratio {
  /** What is compared with what, "A / B", e.g. "apply overlayfs: strata / containerd Go". */
  kind: string;
  subject: string;
  /** A's time over B's: below 1 means A is faster. */
  ratio: number;
}

export interface Machine {
  host: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  filesystem: string;
  node: string;
  containerd: string;
  go: string;
}

/** The stack the containerd arms ran on, as containerd described it. */
export interface Stack {
  /** From `ctr version`: ctr's version, and the containerd's it talked to. */
  containerd: { client: string; server: string };
  /** Each snapshotter the arms ran on, in the order named, from `ctr plugins ls --detailed`. */
  snapshotters: SnapshotterPlugin[];
}

/**
 * The report's layout: raised when a field is renamed, removed or changes
 * meaning, so that --from refuses a report it would misread. Reports written
 * before the field existed have format 1's layout.
 */
export const REPORT_FORMAT = 1;

export interface Report {
  format: typeof REPORT_FORMAT;
  startedAt: string;
  seconds: number;
  machine: Machine;
  options: Record<string, unknown>;
  measurements: SummarisedMeasurement[];
  snapshots: SnapshotScenario[];
  content: ContentScenario[];
  ratios: Ratio[];
  /** Reports from before it was recorded, and runs without the containerd group, have none. */
  stack?: Stack;
}
