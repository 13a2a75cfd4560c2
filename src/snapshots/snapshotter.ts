// The snapshotter shared by both backends. As in containerd's overlay and
// native snapshotters: each operation is one metadata transaction; new
// directories are built under a temp name and renamed into place before the
// transaction commits; directories are deleted only after the commit; and
// Cleanup sweeps any directory that no snapshot owns.
import fs from 'fs-extra';
import path from 'node:path';
import type { Logger } from 'pino';
import { nowNs } from '../clock';
import { failedPrecondition, inContext, unimplemented } from '../errdefs';
import { parseFilters } from '../filters';
import type { MetadataDatabase } from '../metadata/database';
import * as store from '../metadata/snapshot-store';
import { Transactor } from '../metadata/transactor';
import { syncDirectory } from '../sync-directory';
import type { Backend } from './backend';
import { BackgroundRemovals } from './background-removals';
import { diskUsage } from './disk-usage';
import { SnapshotLayout } from './layout';
import { snapshotFields } from './snapshot-filter';
import type { Info, Labels, Mount, SnapshotRef, Snapshotter, Usage } from './types';

export class StoreSnapshotter implements Snapshotter {
  private readonly layout: SnapshotLayout;
  private readonly removals: BackgroundRemovals;

  constructor(
    root: string,
    private readonly db: MetadataDatabase,
    private readonly writes: Transactor,
    private readonly backend: Backend,
    private readonly log: Logger,
  ) {
    this.layout = new SnapshotLayout(root);
    this.removals = new BackgroundRemovals(log);
    fs.mkdirpSync(this.layout.dir, { mode: 0o700 });
  }

  prepare(key: string, parent: string, labels: Labels): Promise<Mount[]> {
    return inContext(`prepare ${key}`, () => this.create('active', key, parent, labels));
  }

  view(key: string, parent: string, labels: Labels): Promise<Mount[]> {
    return inContext(`view ${key}`, () => this.create('view', key, parent, labels));
  }

  private async create(kind: 'active' | 'view', key: string, parent: string, labels: Labels): Promise<Mount[]> {
    const ref = await this.writes.run(async (db) => {
      const created = store.createSnapshot(db, kind, key, parent, labels, nowNs());
      await this.buildDirectory(created);
      return created;
    });
    return this.backend.mounts(ref, this.layout);
  }

  // The small directory operations here are synchronous: they take
  // microseconds, the transaction already keeps every other writer waiting,
  // and a trip to the thread pool for each costs more than the syscall.
  private async buildDirectory(ref: SnapshotRef): Promise<void> {
    const temp = fs.mkdtempSync(path.join(this.layout.dir, 'new-'));
    try {
      const fsDir = path.join(temp, 'fs');
      fs.mkdirSync(fsDir);
      fs.chmodSync(fsDir, 0o755);
      await this.backend.populate(temp, ref, this.layout);
      const target = this.layout.snapshotDir(ref.id);
      // An id handed out by a transaction that never committed (a crash
      // between rename and commit) can be handed out again; whatever that
      // attempt left behind belongs to no snapshot.
      if (fs.existsSync(target)) await fs.rm(target, { recursive: true, force: true });
      fs.renameSync(temp, target);
      // The rename must reach the disk before the row that names it commits.
      await syncDirectory(this.layout.dir);
    } catch (err) {
      await fs.rm(temp, { recursive: true, force: true });
      throw err;
    }
  }

  mounts(key: string): Promise<Mount[]> {
    return inContext(`mounts ${key}`, () => {
      const ref = store.getSnapshot(this.db.reader, key);
      // As containerd: only active snapshots and views have mounts; a committed one is viewed.
      if (ref.kind === 'committed') throw failedPrecondition('snapshot is committed, not active or a view');
      return this.backend.mounts(ref, this.layout);
    });
  }

  commit(name: string, key: string, labels: Labels, parent = ''): Promise<void> {
    return inContext(`commit ${key} as ${name}`, async () => {
      await this.writes.run(
        async (db) => {
          const { id, rebasedOnto } = store.commitActive(db, key, name, labels, nowNs(), parent);
          if (rebasedOnto) {
            if (!this.backend.rebase) {
              throw unimplemented(`the ${this.backend.name} backend cannot give a snapshot a parent when it is committed: its snapshots are full copies (leave "rebase" out of the proxy plugin's capabilities)`);
            }
            await this.backend.rebase({ id, kind: 'committed', parentIds: rebasedOnto }, this.layout);
          }
          store.recordUsage(db, id, await diskUsage(this.layout.fsDir(id)));
          return id;
        },
        // Replayed or not needed: a committed snapshot is never rebased.
        async (id) => {
          try {
            fs.rmSync(this.layout.markersFile(id), { force: true });
          } catch (err) {
            this.log.warn({ err, key: name }, 'failed to remove the deferred overlay markers of a committed snapshot');
          }
        },
      );
    });
  }

  /**
   * Where an Apply into `mounts` records what a rebase needs: set when they
   * are the one writable bind Prepare gave a snapshot with no parent, on a
   * backend that can rebase.
   */
  deferredMarkersFile(mounts: readonly Mount[]): string | undefined {
    if (!this.backend.rebase || mounts.length !== 1) return undefined;
    const [mount] = mounts;
    if (mount.type !== 'bind' || mount.options.includes('ro')) return undefined;
    const id = this.layout.idOfFsDir(mount.source);
    if (id === undefined || !store.isParentlessActive(this.db.reader, id)) return undefined;
    return this.layout.markersFile(id);
  }

  /** `precondition` runs first in the transaction, and may throw to leave the snapshot be. */
  async remove(key: string, precondition?: () => void): Promise<void> {
    await inContext(`remove ${key}`, () =>
      this.writes.run(
        (db) => {
          precondition?.();
          return store.removeSnapshot(db, key);
        },
        // Renamed out of the way at once, then deleted in the background, as
        // containerd's collector deletes after its Remove has returned. A
        // crash in between leaves a directory no snapshot owns, for Cleanup.
        async ({ id }) => {
          const doomed = this.layout.removedDir(id);
          try {
            fs.renameSync(this.layout.snapshotDir(id), doomed);
            this.removals.add(doomed);
          } catch (err) {
            this.log.warn({ err, key, id }, 'failed to remove snapshot directory');
          }
        },
      ),
    );
  }

  stat(key: string): Promise<Info> {
    return inContext(`stat ${key}`, () => store.getInfo(this.db.reader, key));
  }

  update(name: string, labels: Labels, fieldpaths: readonly string[]): Promise<Info> {
    return inContext(`update ${name}`, () =>
      this.writes.run((db) => store.updateInfo(db, name, labels, fieldpaths, nowNs())),
    );
  }

  async list(filters: readonly string[]): Promise<Info[]> {
    const filter = parseFilters(filters);
    return store.listInfos(this.db.reader).filter((info) => filter.match(snapshotFields(info)));
  }

  usage(key: string): Promise<Usage> {
    return inContext(`usage ${key}`, async () => {
      const { id, kind, usage } = store.getUsage(this.db.reader, key);
      return kind === 'active' ? diskUsage(this.layout.fsDir(id)) : usage;
    });
  }

  async cleanup(): Promise<void> {
    await this.removals.drain();
    // Chosen with no operation in flight, so no new-* directory is still being
    // built; deleted afterwards, so a large delete holds up no other writer.
    // Ids are never reused, so no later snapshot can claim an orphan.
    const orphans = await this.writes.exclusive(async () => {
      const live = store.liveIds(this.db.writer);
      const entries = await fs.readdir(this.layout.dir);
      return entries.filter(
        (entry) => !(/^\d+$/.test(entry) && live.has(Number(entry))) && !this.removals.has(path.join(this.layout.dir, entry)),
      );
    });
    for (const entry of orphans) {
      this.log.info({ dir: entry }, 'cleanup: removing directory that no snapshot owns');
      this.removals.add(path.join(this.layout.dir, entry));
    }
    await this.removals.drain();
  }

  async close(): Promise<void> {
    await this.writes.exclusive(async () => undefined);
    await this.removals.close();
  }
}
