// Pull to first container: `ctr images pull`, then `ctr run` of a command
// that exits at once, timed until it has exited. That is the figure the
// lazy-pulling snapshotters (stargz, SOCI, nydus) publish. The image is the
// input with a static busybox on top (inputs/runnable.ts), pushed to the
// registry once and pulled from it as PullArm pulls.
import { ARM } from '../arm-names';
import type { ImageRepository } from '../harness/image-repository';
import type { InputImage } from '../inputs/materialize';
import { RUN_COMMAND, runnableLayout } from '../inputs/runnable';
import type { Sample } from '../model';
import { timed } from '../system';
import { pullArgs, removeImage, type ContainerdTarget } from './containerd';

/** The container's ID: one at a time, removed after each sample. */
const CONTAINER = 'strata-bench-first-container';

/** Each input's runnable image, made and pushed once for every arm that runs it. */
export class RunnableImages {
  private readonly pushed = new Map<string, Promise<string>>();

  constructor(
    /** Where the runnable layouts go. */
    private readonly dir: string,
    readonly registry: ImageRepository,
  ) {}

  /** The image's reference in the registry. */
  reference(input: InputImage): Promise<string> {
    let pushing = this.pushed.get(input.id);
    if (!pushing) {
      pushing = (async () => this.registry.push(await runnableLayout(input, this.dir), `${input.id}:run`))();
      this.pushed.set(input.id, pushing);
    }
    return pushing;
  }
}

export class FirstContainerArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    private readonly images: RunnableImages,
  ) {
    this.name = ARM.firstContainer(target.snapshotter);
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = await this.images.reference(input);
    const { containerd, snapshotter } = this.target;
    const [, seconds] = await timed(async () => {
      await containerd.ctr(pullArgs(this.target, this.images.registry, remote));
      // Not --rm: ctr returns once the task has exited and is deleted; the
      // container and its snapshot are removed after the clock stops.
      await containerd.ctr(['run', '--snapshotter', snapshotter, '--platform', 'linux/amd64', remote, CONTAINER, ...RUN_COMMAND]);
    });
    await containerd.ctr(['containers', 'rm', CONTAINER]);
    await removeImage(this.target, remote);
    return { seconds };
  }
}
