// strata's Apply, as containerd 1.7+ drives a remote differ: for each layer,
// Prepare a snapshot on the previous one, Diff.Apply the layer blob into its
// mounts, Commit it under its chain ID. Apply time is the unpack; Prepare
// and Commit are the metadata phase; a syncfs afterwards is the sync phase.
//
// The layers go one after another (share_layers off), or in parallel as a
// pull meets them: with the image's manifest and config in the store too,
// the first Apply starts early unpacks of the layers above it, and each
// later Apply takes its layer's tree (src/unpack/).
import fs from 'node:fs';
import path from 'node:path';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import { freePort } from '../harness/registry';
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

export type LayerOrder = 'one after another' | 'in parallel';

export class StrataApplyArm {
  readonly name: string;
  private readonly uploaded = new Set<string>();

  private constructor(
    readonly backend: StrataBackend,
    private readonly order: LayerOrder,
    private readonly strata: Strata,
    private readonly client: StrataClient,
    private readonly root: string,
    /** strata's metrics, where the layers taken from early unpacks are counted. */
    private readonly metrics: string,
  ) {
    this.name = order === 'in parallel' ? ARM.strataApplyParallel(backend) : ARM.strataApply(backend);
  }

  static async start(workDir: string, backend: StrataBackend, order: LayerOrder): Promise<StrataApplyArm> {
    const dir = path.join(workDir, `strata-${backend}${order === 'in parallel' ? '-parallel' : ''}`);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(dir, { recursive: true });
    const address = path.join(dir, 'strata.sock');
    const root = path.join(dir, 'root');
    const configFile = path.join(dir, 'strata.toml');
    const metrics = `127.0.0.1:${await freePort()}`;
    await fs.promises.writeFile(configFile, `[snapshots]\nshare_layers = "${order === 'in parallel' ? 'verified' : 'off'}"\n\n[metrics]\naddress = "${metrics}"\n`);
    const strata = await startStrata({ root, address, backend, logFile: path.join(dir, 'strata.log'), configFile });
    return new StrataApplyArm(backend, order, strata, connect(address), root, metrics);
  }

  get pid(): number {
    return this.strata.pid;
  }

  /**
   * The layer blobs go into strata's content store once; they are not part of
   * any sample. Layers in parallel need the image's config and manifest too,
   * written first, as a pull writes them.
   */
  async upload(input: InputImage): Promise<void> {
    const blobs = input.layers.map((layer) => ({ file: layer.file, digest: layer.descriptor.digest, size: layer.descriptor.size }));
    if (this.order === 'in parallel') blobs.unshift(...(await imageBlobs(input)));
    for (const { file, digest, size } of blobs) {
      if (this.uploaded.has(digest)) continue;
      try {
        await writeBlob(this.client.content, `bench-${digest}`, size, digest, fileChunks(file));
      } catch (err) {
        if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
      }
      this.uploaded.add(digest);
    }
  }

  async run(input: InputImage, rep: number): Promise<Sample> {
    await this.upload(input);
    const call = <T>(client: 'snapshots' | 'diff', method: string, request: object) => unaryCall<object, T>(this.client[client], method, request);
    const names: string[] = [];
    let apply = 0;
    let metadata = 0;
    const adoptedBefore = await this.layersAdopted();
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
    return { seconds: apply, phases: { metadata, sync }, peakRssBytes: peak, layersUnpackedEarly: (await this.layersAdopted()) - adoptedBefore };
  }

  private async layersAdopted(): Promise<number> {
    const text = await (await fetch(`http://${this.metrics}/metrics`)).text();
    const value = /^strata_layers_adopted_total (\d+)$/m.exec(text);
    if (!value) throw new Error(`strata's metrics at ${this.metrics} have no strata_layers_adopted_total`);
    return Number(value[1]);
  }

  async close(): Promise<void> {
    this.client.close();
    await this.strata.stop();
  }
}

/** The image's config and manifest blobs in its layout, in the order a pull writes them. */
async function imageBlobs(input: InputImage): Promise<{ file: string; digest: string; size: number }[]> {
  const blob = (digest: string) => path.join(input.layoutDir, 'blobs', ...digest.split(':'));
  const manifestFile = blob(input.manifestDigest);
  const manifest = JSON.parse(await fs.promises.readFile(manifestFile, 'utf8')) as { config: { digest: string; size: number } };
  return [
    { file: blob(manifest.config.digest), digest: manifest.config.digest, size: manifest.config.size },
    { file: manifestFile, digest: input.manifestDigest, size: (await fs.promises.stat(manifestFile)).size },
  ];
}
