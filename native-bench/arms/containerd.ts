// containerd end to end: `ctr images import` of the image's archive (with
// and without unpacking; the difference is the unpack's share) and
// `ctr images pull --plain-http` from a local registry, once into
// containerd's built-in overlayfs and content store, once into strata as
// proxy snapshotter and content store (and, from containerd 1.7.4, differ).
// Every sample starts from an empty store: the image is removed and
// garbage-collected after it.
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '../../src/client/connect';
import { fileChunks, writeBlob } from '../content-writer';
import type { Containerd } from '../harness/containerd';
import type { Registry } from '../harness/registry';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { timed } from '../system';

export interface ContainerdTarget {
  /** "built-in" or "strata". */
  label: string;
  containerd: Containerd;
  snapshotter: string;
}

/** Removes the image and waits for the collection; the store must then hold nothing of it. */
export async function removeImage(target: ContainerdTarget, reference: string): Promise<void> {
  await target.containerd.ctr(['images', 'rm', '--sync', reference]);
  const content = (await target.containerd.ctr(['content', 'ls', '--quiet'])).trim();
  const snapshots = (await target.containerd.ctr(['snapshots', '--snapshotter', target.snapshotter, 'ls'])).trim().split('\n').slice(1);
  if (content !== '' || snapshots.some((line) => line.trim() !== '')) {
    throw new Error(`${target.label}: removing ${reference} left content or snapshots behind; the next sample would not start empty`);
  }
}

export class ImportArm {
  readonly name: string;

  constructor(
    private readonly target: ContainerdTarget,
    readonly unpack: boolean,
  ) {
    this.name = ARM.ctrImport(target.label, unpack);
  }

  async run(input: InputImage): Promise<Sample> {
    const args = ['images', 'import', '--snapshotter', this.target.snapshotter, '--platform', 'linux/amd64', ...(this.unpack ? [] : ['--no-unpack']), input.archive];
    const [, seconds] = await timed(() => this.target.containerd.ctr(args));
    await removeImage(this.target, input.reference);
    return { seconds };
  }
}

export class PullArm {
  readonly name: string;
  private readonly pushed = new Set<string>();

  constructor(
    private readonly target: ContainerdTarget,
    private readonly registry: Registry,
  ) {
    this.name = ARM.ctrPull(target.label);
  }

  private remote(input: InputImage): string {
    return `${this.registry.host}/strata-bench/${input.id}:bench`;
  }

  async run(input: InputImage): Promise<Sample> {
    const remote = this.remote(input);
    if (!this.pushed.has(remote)) {
      await this.registry.push(input.layoutDir, `strata-bench/${input.id}:bench`);
      this.pushed.add(remote);
    }
    const args = ['images', 'pull', '--plain-http', '--snapshotter', this.target.snapshotter, '--platform', 'linux/amd64', remote];
    const [, seconds] = await timed(() => this.target.containerd.ctr(args));
    await removeImage(this.target, remote);
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
    private readonly registry: Registry,
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
    const name = `strata-bench/${input.id}:bench`;
    const remote = `${this.registry.host}/${name}`;
    await this.registry.push(input.layoutDir, name);
    await this.seedPeer(input);
    const args = ['images', 'pull', '--plain-http', '--hosts-dir', this.hostsDir, '--snapshotter', this.target.snapshotter, '--platform', 'linux/amd64', remote];
    const [, seconds] = await timed(() => this.target.containerd.ctr(args));
    await removeImage(this.target, remote);
    return { seconds };
  }
}

