// containerd end to end: `ctr images import` of the image's archive (with
// and without unpacking; the difference is the unpack's share) and
// `ctr images pull` from a registry (the bench's own, or --registry), once per snapshotter
// named: containerd's built-in ones with its own content store and differ,
// strata as proxy snapshotter and content store (and, from containerd
// 1.7.4, differ). Every sample starts from an empty store: the image is
// removed and garbage-collected after it. A pull into a second namespace
// measures what a node pays for an image another namespace already holds,
// and a removal what it pays to be rid of one.
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '../../src/client/connect';
import { fileChunks, writeBlob } from '../content-writer';
import type { ContainerdClient } from '../harness/containerd';
import type { ImageRepository } from '../harness/image-repository';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { pullWithUnpacker } from '../reference-build';
import { timed } from '../system';

/** A snapshotter, and the containerd it runs on: every containerd arm's figures are labelled with the snapshotter's name. */
export interface ContainerdTarget {
  containerd: ContainerdClient;
  snapshotter: string;
}

/** Removes the image and waits for the collection; the store must then hold nothing of it. */
export async function removeImage(target: ContainerdTarget, reference: string): Promise<void> {
  await target.containerd.ctr(['images', 'rm', '--sync', reference]);
  const content = (await target.containerd.ctr(['content', 'ls', '--quiet'])).trim();
  const snapshots = (await target.containerd.ctr(['snapshots', '--snapshotter', target.snapshotter, 'ls'])).trim().split('\n').slice(1);
  if (content !== '' || snapshots.some((line) => line.trim() !== '')) {
    throw new Error(`${target.snapshotter}: removing ${reference} left content or snapshots behind; the next sample would not start empty`);
  }
}

export class ImportArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    readonly unpack: boolean,
  ) {
    this.name = ARM.ctrImport(target.snapshotter, unpack);
  }

  async run(input: InputImage): Promise<Sample> {
    const args = ['images', 'import', '--snapshotter', this.target.snapshotter, '--platform', 'linux/amd64', ...(this.unpack ? [] : ['--no-unpack']), input.archive];
    const [, seconds] = await timed(() => this.target.containerd.ctr(args));
    await removeImage(this.target, input.reference);
    return { seconds };
  }
}

/** Each input's reference, by registry and input: pushed once for every arm that pulls it. */
const pushed = new Map<string, Promise<string>>();

/** The input's reference in the registry, pushed there the first time it is asked for. */
function pushedOnce(registry: ImageRepository, input: InputImage): Promise<string> {
  const key = `${registry.host} ${input.id}`;
  let pushing = pushed.get(key);
  if (!pushing) {
    pushing = registry.push(input.layoutDir, `${input.id}:bench`);
    pushed.set(key, pushing);
  }
  return pushing;
}

/** `ctr images pull` of `remote` into the target's snapshotter, over plain HTTP where the registry is. */
export function pullArgs(target: ContainerdTarget, registry: ImageRepository, remote: string, flags: string[] = []): string[] {
  return ['images', 'pull', ...(registry.plainHttp ? ['--plain-http'] : []), ...flags, '--snapshotter', target.snapshotter, '--platform', 'linux/amd64', remote];
}

export class PullArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    private readonly registry: ImageRepository,
  ) {
    this.name = ARM.ctrPull(target.snapshotter);
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = await pushedOnce(this.registry, input);
    const [, seconds] = await timed(() => this.target.containerd.ctr(pullArgs(this.target, this.registry, remote)));
    await removeImage(this.target, remote);
    return { seconds };
  }
}

/**
 * `ctr images rm --sync` of a pulled image, timed until its content and
 * snapshots are gone: what removing an image and collecting its garbage
 * costs. The pull before it is not timed.
 */
export class RemovalArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    private readonly registry: ImageRepository,
  ) {
    this.name = ARM.removal(target.snapshotter);
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = await pushedOnce(this.registry, input);
    await this.target.containerd.ctr(pullArgs(this.target, this.registry, remote));
    const [, seconds] = await timed(() => removeImage(this.target, remote));
    return { seconds };
  }
}

/**
 * `ctr images pull` into strata with its mirror first in hosts.toml and a
 * peer strata that already holds the image's blobs: the layers come from
 * the peer, verified, and only the tag from the registry. Compared with
 * PullArm's registry-only pull into the same strata.
 */
export class MirrorPullArm {
  readonly name = ARM.ctrPullMirror;
  private readonly seeded = new Set<string>();

  constructor(
    private readonly target: ContainerdTarget,
    private readonly registry: ImageRepository,
    private readonly hostsDir: string,
    /** The peer's socket, to seed its store. */
    private readonly peerSocket: string,
  ) {}

  private async seedPeer(input: InputImage): Promise<void> {
    if (this.seeded.has(input.id)) return;
    const client = connect(this.peerSocket);
    try {
      const blobs = path.join(input.layoutDir, 'blobs', 'sha256');
      for (const hex of await fs.promises.readdir(blobs)) {
        const file = path.join(blobs, hex);
        const { size } = await fs.promises.stat(file);
        await writeBlob(client.content, `bench-seed-sha256:${hex}`, size, `sha256:${hex}`, fileChunks(file)).catch((err: { code?: number }) => {
          if (err.code !== 6) throw err;
        });
      }
    } finally {
      client.close();
    }
    this.seeded.add(input.id);
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = await pushedOnce(this.registry, input);
    await this.seedPeer(input);
    const [, seconds] = await timed(() => this.target.containerd.ctr(pullArgs(this.target, this.registry, remote, ['--hosts-dir', this.hostsDir])));
    await removeImage(this.target, remote);
    return { seconds };
  }
}


/** The namespace the second-namespace arm pulls into first, beside the bench's own. */
export const firstNamespace = (namespace: string) => `${namespace}-first`;

/**
 * A pull of an image another namespace of the same containerd already
 * pulled (Kubernetes' k8s.io after nerdctl's default, say), through
 * containerd's unpacker as CRI and nerdctl pull (native-bench/go/pull): the
 * blobs are in the shared content store already, and strata offers every
 * layer it holds, where containerd's built-in snapshotters unpack them all
 * again. Only the second pull is timed.
 */
export class SecondNamespacePullArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    private readonly registry: ImageRepository,
    /** The Go pull client. */
    private readonly pullClient: string,
  ) {
    this.name = ARM.secondNamespacePull(target.snapshotter);
  }

  private pull(namespace: string, remote: string): Promise<number> {
    return pullWithUnpacker(this.pullClient, this.target.containerd.address, namespace, this.target.snapshotter, remote, this.registry.plainHttp);
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = await pushedOnce(this.registry, input);
    await this.pull(firstNamespace(this.target.containerd.namespace), remote);
    const seconds = await this.pull(this.target.containerd.namespace, remote);
    await this.target.containerd.ctr(['images', 'rm', '--sync', remote], firstNamespace(this.target.containerd.namespace));
    await removeImage(this.target, remote);
    return { seconds };
  }
}
