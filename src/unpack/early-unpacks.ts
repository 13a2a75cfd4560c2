// Unpacks an image's layers as their blobs land, before containerd asks for
// them, and in parallel: each into a snapshot of its own with no parent (the
// overlay markers it could not write are recorded, as for containerd 2.2's
// parallel unpack). How one is handed over depends on how containerd
// unpacks (layer-sharing.ts):
// - offer: committed onto the layer beneath once that is there, for
//   containerd's unpacker's Prepare to be offered;
// - adopt: kept until containerd's own Apply of the layer, onto the layer
//   beneath, takes its tree.
// Either way the rebase refuses a layer whose result would differ from a
// sequential unpack's; such a layer is dropped, and containerd unpacks it
// itself. Nothing is ever handed over unfinished.
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import type { LayerApplier } from '../diff/layer-applier';
import { SNAPSHOT_REF_LABEL, type ShareMode } from '../metadata/layer-records';
import { Slots } from '../slots';
import type { StoreSnapshotter } from '../snapshots/snapshotter';
import type { LayerPlan } from './image-plans';

/** How long a finished layer waits for the one beneath before it is dropped. */
const PARENT_WAIT_MS = 10 * 60_000;

/**
 * How long a chain containerd unpacks itself is left to it: no early unpack
 * duplicates it meanwhile. Once containerd commits it, strata holds it
 * anyway; should containerd give up, a later pull may unpack it early again.
 */
const CLAIM_MS = 10 * 60_000;

export type HandOver = 'offer' | 'adopt';

interface Job {
  plan: LayerPlan;
  handOver: HandOver;
  /** The active snapshot's key, and the name it is committed under. */
  key: string;
  name: string;
  /** Set by a Prepare that joins: the snapshot the layer must go onto. */
  parentKey?: string;
  /** Past waiting for a worker: a Prepare now waits for it rather than unpacking again. */
  started: boolean;
  controller: AbortController;
  /** True once the layer is committed onto its parent, or adopted. */
  done: Promise<boolean>;
  /** The layer's diff ID and size once it is unpacked; undefined if that failed. */
  unpacked: Promise<{ diffId: string; size: number } | undefined>;
  /** Set by an Apply that took the tree. */
  adopted: boolean;
}

export interface EarlyUnpackFigures {
  started: number;
  /** Committed for an offer, or adopted by an Apply. */
  handedOver: number;
  dropped: number;
}

export class EarlyUnpacks {
  private readonly jobs = new Map<string, Job>();
  /** Claimed chain IDs, and until when. */
  private readonly claims = new Map<string, number>();
  private readonly workers: Slots;
  /** Early unpacks waiting for the layer beneath, woken by every commit. */
  private waiters: (() => void)[] = [];
  private next = 0;
  readonly figures: EarlyUnpackFigures = { started: 0, handedOver: 0, dropped: 0 };

  constructor(
    private readonly snapshotter: StoreSnapshotter,
    private readonly applier: LayerApplier,
    private readonly content: ContentStore,
    private readonly mode: ShareMode,
    workers: number,
    private readonly log: Logger,
  ) {
    this.workers = new Slots(workers);
  }

  /** Unpacks `plan`'s layer early, unless it is unpacking, unpacked, containerd's to unpack, or its blob is not here. */
  start(plan: LayerPlan, handOver: HandOver): void {
    const chain = plan.chainId;
    if (this.jobs.has(chain) || this.isClaimed(chain) || !this.content.exists(plan.layer.digest)) return;
    // A backend that cannot rebase could only ever commit a base layer early.
    if (plan.parentChainId !== undefined && !this.snapshotter.canRebase) return;
    if (this.snapshotter.holdingChain(chain, this.mode).length > 0) return;
    const n = ++this.next;
    let unpacked: (result: { diffId: string; size: number } | undefined) => void = () => undefined;
    const job: Job = {
      plan,
      handOver,
      key: `strata-early-unpack/${n}/active`,
      name: `strata-early-unpack/${n}/${chain}`,
      started: false,
      controller: new AbortController(),
      done: Promise.resolve(false),
      unpacked: new Promise((resolve) => (unpacked = resolve)),
      adopted: false,
    };
    this.jobs.set(chain, job);
    this.figures.started++;
    job.done = this.run(job, unpacked).finally(() => {
      unpacked(undefined);
      this.jobs.delete(chain);
    });
  }

  /**
   * An Apply of the layer `layerDigest` onto a parent holding `parentChain`
   * (undefined: none) into the active snapshot `id`: takes the tree of that
   * layer's early unpack, waiting for one that is unpacking. Undefined when
   * there is none, or it cannot be taken; the Apply then unpacks the layer.
   */
  async adopt(layerDigest: string, parentChain: string | undefined, id: number): Promise<{ diffId: string; size: number } | undefined> {
    const job = [...this.jobs.values()].find((j) => j.handOver === 'adopt' && j.plan.layer.digest === layerDigest && j.plan.parentChainId === parentChain);
    if (!job) return undefined;
    if (!job.started) {
      job.controller.abort();
      return undefined;
    }
    const unpacked = await job.unpacked;
    if (!unpacked || job.adopted || !(await this.snapshotter.adoptEarly(job.key, id).catch(() => false))) return undefined;
    job.adopted = true;
    this.committed();
    return unpacked;
  }

  /** containerd unpacks this layer itself: no early unpack starts for it. */
  claim(chain: string): void {
    const now = Date.now();
    for (const [claimed, until] of this.claims) if (until < now) this.claims.delete(claimed);
    this.claims.set(chain, now + CLAIM_MS);
  }

  private isClaimed(chain: string): boolean {
    return (this.claims.get(chain) ?? 0) >= Date.now();
  }

  /**
   * A Prepare for `chain` on `parentKey`: waits for the early unpack of that
   * layer, if one is past its turn, to be committed onto that parent. One
   * still waiting for a worker is dropped: containerd unpacks the layer.
   * One armed for an Apply to take (the image was last unpacked through
   * Image.Unpack) is offered instead: this unpack's Prepare asks for it, and
   * no Apply of it will come.
   */
  async join(chain: string, parentKey: string): Promise<void> {
    const job = this.jobs.get(chain);
    if (!job) return;
    if (!job.started) {
      job.controller.abort();
      return;
    }
    job.parentKey = parentKey;
    job.handOver = 'offer';
    this.committed();
    await job.done;
  }

  /** A layer's blob is gone: its early unpack stops. */
  blobDeleted(digest: string): void {
    for (const job of this.jobs.values()) if (job.plan.layer.digest === digest) job.controller.abort();
  }

  committed(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Stops every early unpack and waits until each has removed what it made. */
  async close(): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort();
    await Promise.all([...this.jobs.values()].map((job) => job.done));
  }

  private async run(job: Job, unpacked: (result: { diffId: string; size: number }) => void): Promise<boolean> {
    const { signal } = job.controller;
    let prepared = false;
    let unpackNs = 0n;
    try {
      const release = await this.workers.take(signal);
      job.started = true;
      const started = process.hrtime.bigint();
      try {
        const mounts = await this.snapshotter.prepareSpeculative(job.key);
        prepared = true;
        const applied = await this.applier.apply(job.plan.layer, mounts, false, signal);
        if (applied.digest !== job.plan.diffId) throw new Error(`the layer's diff ID is ${applied.digest}, and its image's config says ${job.plan.diffId}`);
        unpacked({ diffId: applied.digest, size: applied.size });
        unpackNs = process.hrtime.bigint() - started;
      } finally {
        release();
      }
      if (job.handOver === 'adopt' && (await this.adoption(job))) {
        this.figures.handedOver++;
        return true;
      }
      const parent = await this.parentOf(job);
      // Its unpack, not its wait for the layer beneath, is what an offer of it saves.
      await this.snapshotter.commit(job.name, job.key, { [SNAPSHOT_REF_LABEL]: job.plan.chainId }, parent, unpackNs);
      this.figures.handedOver++;
      this.log.debug({ layer: job.plan.layer.digest, chain: job.plan.chainId, parent }, 'early unpack committed');
      return true;
    } catch (err) {
      this.figures.dropped++;
      this.log.debug({ err, layer: job.plan.layer.digest, chain: job.plan.chainId }, 'early unpack dropped');
      if (prepared) await this.snapshotter.remove(job.key).catch(() => undefined);
      return false;
    }
  }

  /**
   * Waits until an Apply takes the job's tree (true), or a Prepare asks for
   * it to be offered instead (false); throws when neither comes in time, or
   * the job is stopped.
   */
  private async adoption(job: Job): Promise<boolean> {
    const deadline = Date.now() + PARENT_WAIT_MS;
    while (!job.adopted) {
      if (job.handOver === 'offer') return false;
      if (job.controller.signal.aborted) throw new Error('stopped');
      if (Date.now() > deadline) throw new Error(`no Apply took the layer in ${PARENT_WAIT_MS / 60_000} minutes`);
      await this.nextCommit(job);
    }
    return true;
  }

  /** Resolves at the next commit or adoption, after a while, or when the job is stopped. */
  private nextCommit(job: Job): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        job.controller.signal.removeEventListener('abort', wake);
        // Woken by its timer or an abort, it leaves the list a commit would wake.
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve();
      };
      const timer = setTimeout(wake, 5_000);
      job.controller.signal.addEventListener('abort', wake, { once: true });
      this.waiters.push(wake);
    });
  }

  /** The committed snapshot the layer goes onto: the one a joining Prepare names, or the oldest holding the chain beneath. */
  private async parentOf(job: Job): Promise<string> {
    const below = job.plan.parentChainId;
    if (below === undefined) return '';
    const deadline = Date.now() + PARENT_WAIT_MS;
    for (;;) {
      const parent = job.parentKey ?? this.snapshotter.holdingChain(below, this.mode)[0];
      if (parent !== undefined) return parent;
      if (job.controller.signal.aborted) throw new Error('stopped');
      if (Date.now() > deadline) throw new Error(`no snapshot holds ${below} after ${PARENT_WAIT_MS / 60_000} minutes`);
      await this.nextCommit(job);
    }
  }
}
