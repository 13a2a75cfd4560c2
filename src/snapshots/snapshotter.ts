// The snapshotter shared by both backends. As in containerd's overlay and
// native snapshotters: each operation is one metadata transaction; new
// directories are built under a temp name and renamed into place before the
// transaction commits; directories are deleted only after the commit; and
// Cleanup sweeps any directory that no snapshot owns.
import fs from 'fs-extra';
import path from 'node:path';
import type { Logger } from 'pino';
import { nowNs } from '../clock';
import { alreadyExists, failedPrecondition, inContext, unimplemented } from '../errdefs';
import { parseFilters } from '../filters';
import type { MetadataDatabase } from '../metadata/database';
import * as layers from '../metadata/layer-records';
import * as store from '../metadata/snapshot-store';
import { Transactor } from '../metadata/transactor';
import { syncDirectory } from '../sync-directory';
import type { Backend } from './backend';
import { BackgroundRemovals } from './background-removals';
import { diskUsage } from './disk-usage';
import { SnapshotLayout } from './layout';
import { snapshotFields } from './snapshot-filter';
import type { ApplyTarget, Info, Labels, Mount, SnapshotRef, Snapshotter, Usage } from './types';

/** What decides which unpacked layers a Prepare is offered (see unpack/layer-sharing.ts). */
export interface LayerSharingHooks {
  /**
   * Whether the layer a Prepare names by its snapshot.ref label is already
   * unpacked on that parent, so that the Prepare answers AlreadyExists.
   */
  offer(chainId: string, parent: string): Promise<boolean>;
  /**
   * strata's own Apply of a layer begins into the active snapshot `id`, which
   * carries `chainLabel` when containerd's unpacker prepared it: the layer's
   * tree if it was unpacked early and is now that snapshot's (see
   * ApplyTarget.takeEarly).
   */
  beforeApply(layerDigest: string, id: number, chainLabel: string | undefined): Promise<{ diffId: string; size: number } | undefined>;
  /** A snapshot was committed: a parent some early unpack waits for, perhaps. */
  committed(): void;
}

export class StoreSnapshotter implements Snapshotter {
  private readonly layout: SnapshotLayout;
  private readonly removals: BackgroundRemovals;
  private sharing?: LayerSharingHooks;

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
    return inContext(`prepare ${key}`, async () => {
      const chain = labels[layers.SNAPSHOT_REF_LABEL];
      // The remote snapshotters' answer: containerd then adopts the committed
      // snapshot with this label and parent, and skips the layer.
      if (chain !== undefined && this.sharing && (await this.sharing.offer(chain, parent))) {
        throw alreadyExists(`target snapshot ${JSON.stringify(chain)}: already unpacked on ${parent === '' ? 'no parent' : JSON.stringify(parent)}`);
      }
      return this.create('active', key, parent, labels);
    });
  }

  /** Whether a Commit may give a snapshot prepared without a parent one (see Backend.rebase). */
  get canRebase(): boolean {
    return this.backend.rebase !== undefined;
  }

  /** Set once, by whatever decides which unpacked layers a Prepare may be offered. */
  setLayerSharing(sharing: LayerSharingHooks): void {
    this.sharing = sharing;
  }

  /** An active snapshot with no parent that strata makes for itself, to unpack a layer into ahead of containerd. */
  prepareSpeculative(key: string): Promise<Mount[]> {
    return inContext(`prepare ${key}`, () => this.create('active', key, '', {}, true));
  }

  view(key: string, parent: string, labels: Labels): Promise<Mount[]> {
    return inContext(`view ${key}`, () => this.create('view', key, parent, labels));
  }

  private async create(kind: 'active' | 'view', key: string, parent: string, labels: Labels, speculative = false): Promise<Mount[]> {
    const ref = await this.writes.run(async (db) => {
      const created = store.createSnapshot(db, kind, key, parent, labels, nowNs());
      if (speculative) layers.markSpeculative(db, created.id, true);
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

  /** `unpackNs`: how long the layer took to unpack, where that is not the snapshot's Prepare to this Commit. */
  commit(name: string, key: string, labels: Labels, parent = '', unpackNs?: bigint): Promise<void> {
    return inContext(`commit ${key} as ${name}`, async () => {
      await this.writes.run(
        async (db) => {
          const { id, rebasedOnto } = store.commitActive(db, key, name, labels, nowNs(), parent, unpackNs);
          if (rebasedOnto) {
            if (!this.backend.rebase) {
              throw unimplemented(`the ${this.backend.name} backend cannot give a snapshot a parent when it is committed: its snapshots are full copies (leave "rebase" out of the proxy plugin's capabilities)`);
            }
            // strata's own early unpack must come out as a sequential one would, or not at all.
            const exact = layers.isSpeculative(db, id);
            await this.backend.rebase({ id, kind: 'committed', parentIds: rebasedOnto }, this.layout, exact);
          }
          layers.recordChain(db, id);
          store.recordUsage(db, id, await diskUsage(this.layout.fsDir(id)));
          return id;
        },
        // Replayed or not needed: a committed snapshot is never rebased. Only
        // a snapshot an Apply deferred markers for has the file, so it is
        // looked for first: rmSync finds a missing one by throwing, which took
        // 60 µs of every Commit.
        async (id) => {
          this.sharing?.committed();
          const markers = this.layout.markersFile(id);
          try {
            if (fs.existsSync(markers)) fs.rmSync(markers, { force: true });
          } catch (err) {
            this.log.warn({ err, key: name }, 'failed to remove the deferred overlay markers of a committed snapshot');
          }
        },
      );
    });
  }

  /**
   * What an Apply into `mounts` must tell this snapshotter, when they are an
   * active snapshot of its own: undefined for anything else. The diff ID it
   * finishes with becomes the snapshot's chain at Commit, if the Apply was
   * the first and only write into it. Its markers file is set when the
   * snapshot has no parent and the backend can rebase.
   */
  async applyTarget(mounts: readonly Mount[]): Promise<ApplyTarget | undefined> {
    const id = this.layout.idOfActiveMounts(mounts);
    if (id === undefined) return undefined;
    const fsDir = this.layout.fsDir(id);
    const empty = (await fs.readdir(fsDir).catch(() => ['?'])).length === 0;
    await this.writes.run((db) => layers.beginApply(db, id, empty));
    const chain = store.labelOf(this.db.reader, id, layers.SNAPSHOT_REF_LABEL);
    // An early unpack's own Apply is strata's, not containerd's: it arms nothing and takes nothing.
    const speculative = layers.isSpeculative(this.db.reader, id);
    const markersFile = this.backend.rebase && store.isParentlessActive(this.db.reader, id) ? this.layout.markersFile(id) : undefined;
    return {
      tree: fsDir,
      ...(markersFile === undefined ? {} : { markersFile }),
      takeEarly: async (layerDigest) => (speculative ? undefined : this.sharing?.beforeApply(layerDigest, id, chain)),
      finish: (diffId) => this.writes.run((db) => layers.finishApply(db, id, diffId)),
    };
  }

  /**
   * The chain of the parent of snapshot `id`, as `mode` trusts it: '' when
   * it has no parent, undefined when the parent has no chain `mode` accepts.
   */
  parentChainOf(id: number, mode: layers.ShareMode): string | undefined {
    return layers.parentChain(this.db.reader, id, mode);
  }

  /**
   * Makes the tree of the early unpack `earlyKey` (an active snapshot with no
   * parent) the tree of the active snapshot `id`, whose Apply of the same
   * layer has only begun: rebased onto `id`'s parents, exactly as for a
   * Commit, then renamed into place; the early unpack's snapshot goes. False,
   * changing nothing of `id`, when either is not as it must be or the layer
   * depends on those parents (see Backend.rebase).
   */
  adoptEarly(earlyKey: string, id: number): Promise<boolean> {
    return inContext(`adopt ${earlyKey}`, async () => {
      const doomed = await this.writes.run(
        async (db) => {
          const early = store.getSnapshot(db, earlyKey);
          if (early.kind !== 'active' || early.parentIds.length > 0 || !layers.isSpeculative(db, early.id) || !layers.isApplying(db, id)) return undefined;
          const parentIds = store.parentIdsOf(db, id);
          if (parentIds.length > 0) {
            if (!this.backend.rebase) return undefined;
            try {
              await this.backend.rebase({ id: early.id, kind: 'active', parentIds }, this.layout, true);
            } catch (err) {
              this.log.debug({ err, key: earlyKey }, 'early unpack not adopted');
              return undefined;
            }
          }
          const target = this.layout.fsDir(id);
          const replaced = path.join(this.layout.snapshotDir(id), 'fs-replaced');
          fs.renameSync(target, replaced);
          try {
            fs.renameSync(this.layout.fsDir(early.id), target);
          } catch (err) {
            fs.renameSync(replaced, target);
            throw err;
          }
          await syncDirectory(this.layout.snapshotDir(id));
          store.removeSnapshot(db, earlyKey);
          return [replaced, this.layout.snapshotDir(early.id)];
        },
        async (dirs) => {
          for (const dir of dirs ?? []) this.removals.add(dir);
        },
      );
      return doomed !== undefined;
    });
  }

  /** The committed snapshots holding `chain` that `mode` trusts, oldest first. */
  holdingChain(chain: string, mode: layers.ShareMode): string[] {
    return layers.snapshotsHoldingChain(this.db.reader, chain, mode);
  }

  /**
   * Hands the committed snapshot on `parent` holding `chain` to a Prepare:
   * it stops being strata's own speculative one, so that nothing strata
   * does removes it from under containerd. False when there is none.
   */
  claimShareable(chain: string, parent: string, mode: layers.ShareMode): Promise<layers.Shareable | undefined> {
    return this.writes.run((db) => {
      const found = layers.findShareable(db, chain, parent, mode);
      if (found) layers.markSpeculative(db, found.id, false);
      return found;
    });
  }

  /**
   * Removes strata's speculative snapshots that nothing was handed, leaves
   * first; with `olderThan`, only those created before it. At startup every
   * one goes: no unpack is running, and none was claimed.
   */
  async removeSpeculative(olderThan?: bigint): Promise<number> {
    let removed = 0;
    for (let before = -1; removed !== before; ) {
      before = removed;
      // In use, an active one is its early unpack's to remove.
      const doomed = layers.speculativeLeaves(this.db.reader).filter((s) => olderThan === undefined || (s.kind === 'committed' && s.created_ns < olderThan));
      if (doomed.length === 0) return removed;
      for (const { key } of doomed) {
        await this.remove(key, () => {
          if (!layers.isSpeculativeKey(this.db.writer, key)) throw failedPrecondition(`snapshot ${key} was handed to a client`);
        }).then(
          () => removed++,
          (err: unknown) => this.log.debug({ err, key }, 'speculative snapshot not removed'),
        );
      }
      if (olderThan !== undefined) return removed;
    }
    return removed;
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
