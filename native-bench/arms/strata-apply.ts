// strata's Apply, as containerd 1.7+ drives a remote differ: for each layer,
// Prepare a snapshot on the previous one, Diff.Apply the layer blob into its
// mounts, Commit it under its chain ID. Apply time is the unpack; Prepare
// and Commit are the metadata phase; a syncfs afterwards is the sync phase.
import fs from 'node:fs';
import path from 'node:path';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import { startStrata, type Strata, type StrataBackend } from '../harness/strata';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { fileChunks, writeBlob } from '../content-writer';
import { peakRssBytes, resetPeakRss, syncSeconds, timed } from '../system';

interface WireMount {
  type: string;
  source: string;
  options: string[];
}

const ALREADY_EXISTS = 6;

export class StrataApplyArm {
  readonly name: string;
  private readonly uploaded = new Set<string>();

  private constructor(
    readonly backend: StrataBackend,
    private readonly strata: Strata,
    private readonly client: StrataClient,
    private readonly root: string,
  ) {
    this.name = ARM.strataApply(backend);
  }

  static async start(workDir: string, backend: StrataBackend): Promise<StrataApplyArm> {
    const dir = path.join(workDir, `strata-${backend}`);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(dir, { recursive: true });
    const address = path.join(dir, 'strata.sock');
    const root = path.join(dir, 'root');
    const strata = await startStrata({ root, address, backend, logFile: path.join(dir, 'strata.log') });
    return new StrataApplyArm(backend, strata, connect(address), root);
  }

  get pid(): number {
    return this.strata.pid;
  }

  /** The layer blobs go into strata's content store once; they are not part of any sample. */
  async upload(input: InputImage): Promise<void> {
    for (const layer of input.layers) {
      if (this.uploaded.has(layer.descriptor.digest)) continue;
      try {
        await writeBlob(this.client.content, `bench-${layer.descriptor.digest}`, layer.descriptor.size, layer.descriptor.digest, fileChunks(layer.file));
      } catch (err) {
        if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
      }
      this.uploaded.add(layer.descriptor.digest);
    }
  }

  async run(input: InputImage, rep: number): Promise<Sample> {
    await this.upload(input);
    const call = <T>(client: 'snapshots' | 'diff', method: string, request: object) => unaryCall<object, T>(this.client[client], method, request);
    const names: string[] = [];
    let apply = 0;
    let metadata = 0;
    resetPeakRss(this.strata.pid);
    let parent = '';
    for (const [i, layer] of input.layers.entries()) {
      const key = `bench-${input.id}-${rep}-${i}-active`;
      const name = `bench-${input.id}-${rep}-${i}`;
      const [{ mounts }, prepareSeconds] = await timed(() => call<{ mounts: WireMount[] }>('snapshots', 'Prepare', { snapshotter: 'strata', key, parent, labels: {} }));
      const descriptor = { media_type: layer.descriptor.mediaType, digest: layer.descriptor.digest, size: layer.descriptor.size, annotations: {} };
      const [applied, applySeconds] = await timed(() => call<{ applied: { digest: string } }>('diff', 'Apply', { diff: descriptor, mounts, payloads: {}, sync_fs: false }));
      if (applied.applied.digest !== layer.diffId) throw new Error(`${input.id} layer ${i}: applied ${applied.applied.digest}, expected ${layer.diffId}`);
      const [, commitSeconds] = await timed(() => call('snapshots', 'Commit', { snapshotter: 'strata', name, key, labels: {} }));
      apply += applySeconds;
      metadata += prepareSeconds + commitSeconds;
      names.push(name);
      parent = name;
    }
    const peak = peakRssBytes(this.strata.pid);
    const sync = syncSeconds(this.root);
    for (const name of names.reverse()) await call('snapshots', 'Remove', { snapshotter: 'strata', key: name });
    await call('snapshots', 'Cleanup', { snapshotter: 'strata' });
    return { seconds: apply, phases: { metadata, sync }, peakRssBytes: peak };
  }

  async close(): Promise<void> {
    this.client.close();
    await this.strata.stop();
  }
}
