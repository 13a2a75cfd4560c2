// Which unpacked layers a Prepare is offered, with containerd's protocol for
// remote snapshotters: containerd's unpacker (CRI, nerdctl, the Go client's
// Pull with unpacking) Prepares each layer with its chain ID as the
// snapshot.ref label; an AlreadyExists answer makes containerd look for a
// committed snapshot with that label on the same parent, adopt it, and skip
// the layer's fetch and apply. strata answers so only for a snapshot that
// holds that chain as `share_layers` trusts it (layer-records.ts).
//
// Once containerd's unpacker is seen at work on an image, the layers it has
// not reached are unpacked early, as their blobs land (early-unpacks.ts), so
// that its Prepares for them find them done.
import type { Logger } from 'pino';
import type { ContentStore } from '../content/store';
import type { ShareMode } from '../metadata/layer-records';
import type { LayerSharingHooks, StoreSnapshotter } from '../snapshots/snapshotter';
import type { EarlyUnpacks } from './early-unpacks';
import { ImagePlans, SMALL_BLOB_BYTES } from './image-plans';

/** Images remembered as armed, the oldest forgotten first. */
const IMAGES_ARMED = 64;

export interface SharingFigures {
  /** Prepares answered AlreadyExists. */
  layersShared: number;
}

export class LayerSharing implements LayerSharingHooks {
  private readonly plans = new ImagePlans();
  /** Images containerd's unpacker is at work on, by manifest digest. */
  private readonly armed = new Set<string>();
  readonly figures: SharingFigures = { layersShared: 0 };

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
      this.early.blobDeleted(digest);
    });
  }

  async offer(chainId: string, parent: string): Promise<boolean> {
    if (this.mode === 'off') return false;
    if (this.armAtPrepare) this.arm(chainId);
    await this.early.join(chainId, parent);
    if (await this.snapshotter.claimShareable(chainId, parent, this.mode)) {
      this.figures.layersShared++;
      return true;
    }
    this.early.claim(chainId);
    return false;
  }

  applying(chainId: string): void {
    if (this.mode !== 'off') this.arm(chainId);
  }

  committed(): void {
    this.early.committed();
  }

  /** Arms the images that have this layer, and starts early unpacks of their layers above it. */
  private arm(chainId: string): void {
    const reached = new Map<string, number>();
    for (const plan of this.plans.plans()) if (plan.chainId === chainId) reached.set(plan.image, plan.index);
    for (const image of reached.keys()) {
      this.armed.delete(image);
      this.armed.add(image);
      if (this.armed.size > IMAGES_ARMED) this.armed.delete(this.armed.values().next().value as string);
    }
    for (const plan of this.plans.plans()) if (plan.index > (reached.get(plan.image) ?? Infinity)) this.early.start(plan);
  }

  private blobCommitted(digest: string, size: number): void {
    if (this.mode === 'off') return;
    if (size <= SMALL_BLOB_BYTES) {
      this.readSmall(digest).catch((err: unknown) => this.log.debug({ err, digest }, 'committed blob not read as a manifest or config'));
      return;
    }
    for (const plan of this.plans.plans()) if (plan.layer.digest === digest && this.armed.has(plan.image)) this.early.start(plan);
  }

  private async readSmall(digest: string): Promise<void> {
    const { stream } = await this.content.read(digest, 0, 0);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (bytes[0] === 0x7b /* { */ && this.plans.note(digest, bytes)) return;
    // A small layer.
    for (const plan of this.plans.plans()) if (plan.layer.digest === digest && this.armed.has(plan.image)) this.early.start(plan);
  }
}
