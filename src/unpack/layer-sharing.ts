// Which unpacked layers a Prepare is offered, with containerd's protocol for
// remote snapshotters: containerd's unpacker (CRI, nerdctl, the Go client's
// Pull with unpacking) Prepares each layer with its chain ID as the
// snapshot.ref label; an AlreadyExists answer makes containerd look for a
// committed snapshot with that label on the same parent, adopt it, and skip
// the layer's fetch and apply. strata answers so only for a snapshot that
// holds that chain as `share_layers` trusts it (layer-records.ts).
//
// Once containerd is seen unpacking an image, the layers it has not reached
// are unpacked early, as their blobs land (early-unpacks.ts). Its unpacker's
// Prepares for them then find them done; an unpack that sends no
// snapshot.ref (Image.Unpack: `ctr images pull` and `import`) finds them
// done at its Apply through strata's differ, which takes the early tree.
import { buffer } from 'node:stream/consumers';
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import type { ShareMode } from '../metadata/layer-records';
import type { LayerSharingHooks, StoreSnapshotter } from '../snapshots/snapshotter';
import type { EarlyUnpacks, HandOver } from './early-unpacks';
import { ImagePlans, SMALL_BLOB_BYTES, type LayerPlan } from './image-plans';

/** Images remembered as armed, the oldest forgotten first. */
const IMAGES_ARMED = 64;

export interface SharingFigures {
  /** Prepares answered AlreadyExists. */
  layersShared: number;
  /** The disk usage of the layers so shared, and how long each one's first unpack took (snapshots.first_unpack_ns). */
  bytesShared: number;
  secondsSaved: number;
  /** Applies that took an early unpack's tree. */
  layersAdopted: number;
}

export class LayerSharing implements LayerSharingHooks {
  private readonly plans = new ImagePlans();
  /** Images containerd is unpacking, by manifest digest, and how their early unpacks are handed over. */
  private readonly armed = new Map<string, HandOver>();
  readonly figures: SharingFigures = { layersShared: 0, bytesShared: 0, secondsSaved: 0, layersAdopted: 0 };

  constructor(
    private readonly snapshotter: StoreSnapshotter,
    private readonly content: ContentStore,
    private readonly early: EarlyUnpacks,
    private readonly mode: ShareMode,
    /** Whether containerd applies layers itself, so that an image is armed at its first Prepare rather than at strata's first Apply. */
    private readonly armAtPrepare: boolean,
    private readonly log: Logger,
  ) {
    content.onCommitted((digest, size) => this.blobCommitted(digest, size));
    content.onDeleted((digest) => {
      this.plans.forget(digest);
      // An image removed is armed again by the next pull of it, for that pull's way of unpacking.
      this.armed.delete(digest);
      this.early.blobDeleted(digest);
    });
  }

  async offer(chainId: string, parent: string): Promise<boolean> {
    if (this.mode === 'off') return false;
    if (this.armAtPrepare) this.arm((plan) => plan.chainId === chainId, 'offer');
    await this.early.join(chainId, parent);
    const shared = await this.snapshotter.claimShareable(chainId, parent, this.mode);
    if (shared) {
      this.figures.layersShared++;
      this.figures.bytesShared += shared.size;
      this.figures.secondsSaved += shared.firstUnpackNs / 1e9;
      return true;
    }
    this.early.claim(chainId);
    return false;
  }

  async beforeApply(layerDigest: string, id: number, chainLabel: string | undefined): Promise<{ diffId: string; size: number } | undefined> {
    if (this.mode === 'off') return undefined;
    // With the label, containerd's unpacker Prepares the layers above with it: they are offered.
    const handOver: HandOver = chainLabel === undefined ? 'adopt' : 'offer';
    this.arm((plan) => plan.layer.digest === layerDigest, handOver);
    if (handOver === 'offer') return undefined;
    const parentChain = this.snapshotter.parentChainOf(id, this.mode);
    if (parentChain === undefined) return undefined;
    const taken = await this.early.adopt(layerDigest, parentChain === '' ? undefined : parentChain, id);
    if (taken) this.figures.layersAdopted++;
    return taken;
  }

  committed(): void {
    this.early.committed();
  }

  /** Arms the images with a layer that `reached` picks, and starts early unpacks of their layers above it. */
  private arm(reached: (plan: LayerPlan) => boolean, handOver: HandOver): void {
    const lowest = new Map<string, number>();
    for (const plan of this.plans.plans()) if (reached(plan)) lowest.set(plan.image, Math.min(plan.index, lowest.get(plan.image) ?? Infinity));
    for (const image of lowest.keys()) {
      this.armed.delete(image);
      this.armed.set(image, handOver);
      if (this.armed.size > IMAGES_ARMED) this.armed.delete(this.armed.keys().next().value as string);
    }
    for (const plan of this.plans.plans()) if (plan.index > (lowest.get(plan.image) ?? Infinity)) this.early.start(plan, handOver);
  }

  private startIfArmed(digest: string): void {
    for (const plan of this.plans.plans()) {
      const handOver = plan.layer.digest === digest ? this.armed.get(plan.image) : undefined;
      if (handOver) this.early.start(plan, handOver);
    }
  }

  private blobCommitted(digest: string, size: number): void {
    if (this.mode === 'off') return;
    if (size <= SMALL_BLOB_BYTES) {
      this.readSmall(digest).catch((err: unknown) => this.log.debug({ err, digest }, 'committed blob not read as a manifest or config'));
      return;
    }
    this.startIfArmed(digest);
  }

  private async readSmall(digest: string): Promise<void> {
    const bytes = await buffer((await this.content.read(digest, 0, 0)).stream);
    if (bytes[0] === 0x7b /* { */ && this.plans.note(digest, bytes)) return;
    // A small layer.
    this.startIfArmed(digest);
  }
}
