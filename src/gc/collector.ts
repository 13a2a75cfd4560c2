// strata's own collector, for when no containerd decides (gc.mode = labels).
// It marks over one consistent read of the metadata, taken with no writer
// active, then removes what is unreachable one object per transaction,
// leaves first, through the same Remove, Delete and Abort that clients call:
// a crash mid-sweep leaves a store in which every removal either happened or
// did not. Each removal first checks that nothing was committed since the
// mark (or since its own previous removal); if something was, the mark is
// taken again, as containerd's collector holds its lock from mark to sweep.
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import { isKind } from '../errdefs';
import type { MetadataDatabase } from '../metadata/database';
import { listBlobs } from '../metadata/content-store';
import { listForCollection } from '../metadata/snapshot-store';
import type { Transactor } from '../metadata/transactor';
import type { Snapshotter } from '../snapshots/types';
import { findGarbage, type Garbage, type GcGraph, type GcRules } from './reachability';

export interface CollectionReport {
  dryRun: boolean;
  snapshots: { key: string; bytes: number }[];
  blobs: { digest: string; bytes: number }[];
  ingests: { ref: string; bytes: number }[];
  /** Bytes freed (or, in a dry run, that would be), by kind. */
  bytes: { snapshots: number; blobs: number; ingests: number };
}

/** A removal found the store changed since the mark it was chosen by. */
class StoreChanged extends Error {}

const MARKS = 5;

export class Collector {
  constructor(
    private readonly db: MetadataDatabase,
    private readonly writes: Transactor,
    private readonly snapshots: Snapshotter,
    private readonly content: ContentStore,
    private readonly rules: Omit<GcRules, 'nowMs'>,
    private readonly log: Logger,
  ) {}

  async collect(options: { dryRun: boolean }): Promise<CollectionReport> {
    const report: CollectionReport = { dryRun: options.dryRun, snapshots: [], blobs: [], ingests: [], bytes: { snapshots: 0, blobs: 0, ingests: 0 } };
    for (let mark = 1; mark <= MARKS; mark++) {
      const { garbage, commits } = await this.mark();
      if (options.dryRun) return this.add(report, garbage);
      if (await this.sweep(garbage, commits, report)) return report;
      this.log.info({ mark }, 'gc: the store changed during the sweep; marking again');
    }
    this.log.warn({ marks: MARKS }, 'gc: the store kept changing; the rest waits for the next run');
    return report;
  }

  private mark(): Promise<{ garbage: Garbage; commits: number }> {
    return this.writes.exclusive(async () => {
      const graph: GcGraph = {
        snapshots: listForCollection(this.db.writer),
        blobs: listBlobs(this.db.writer).map(({ digest, size, labels }) => ({ digest, size, labels })),
        ingests: (await this.content.listStatuses([])).map((s) => ({ ref: s.ref, expected: s.expected, updatedMs: Number(s.updated / 1_000_000n), size: s.offset })),
      };
      return { garbage: findGarbage(graph, { ...this.rules, nowMs: Date.now() }), commits: this.writes.commits };
    });
  }

  private add(report: CollectionReport, garbage: Garbage): CollectionReport {
    for (const s of garbage.snapshots) this.count(report, 'snapshots', { key: s.key, bytes: s.size });
    for (const b of garbage.blobs) this.count(report, 'blobs', { digest: b.digest, bytes: b.size });
    for (const i of garbage.ingests) this.count(report, 'ingests', { ref: i.ref, bytes: i.size });
    return report;
  }

  private count<K extends 'snapshots' | 'blobs' | 'ingests'>(report: CollectionReport, kind: K, entry: CollectionReport[K][number]): void {
    (report[kind] as CollectionReport[K][number][]).push(entry);
    report.bytes[kind] += entry.bytes;
  }

  /** True when every piece of garbage went (or was already gone); false when the store changed under the sweep. */
  private async sweep(garbage: Garbage, commits: number, report: CollectionReport): Promise<boolean> {
    let expected = commits;
    const unchanged = () => {
      if (this.writes.commits !== expected) throw new StoreChanged();
    };
    const removed = async (remove: () => Promise<void>): Promise<boolean> => {
      try {
        await remove();
        expected++;
        return true;
      } catch (err) {
        if (err instanceof StoreChanged) throw err;
        // Gone already: a client removed it since the mark.
        if (isKind(err, 'NotFound')) return false;
        throw err;
      }
    };
    try {
      for (const s of garbage.snapshots) {
        if (await removed(() => this.snapshots.remove(s.key, unchanged))) this.count(report, 'snapshots', { key: s.key, bytes: s.size });
      }
      for (const b of garbage.blobs) {
        if (await removed(() => this.content.delete(b.digest, unchanged))) this.count(report, 'blobs', { digest: b.digest, bytes: b.size });
      }
    } catch (err) {
      if (err instanceof StoreChanged) return false;
      throw err;
    }
    for (const i of garbage.ingests) {
      try {
        await this.content.abort(i.ref);
        this.count(report, 'ingests', { ref: i.ref, bytes: i.size });
      } catch (err) {
        // Resumed or aborted since the mark: no longer ours to remove.
        if (!isKind(err, 'NotFound') && !isKind(err, 'Unavailable')) throw err;
      }
    }
    return true;
  }
}
