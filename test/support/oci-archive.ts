// Builds an OCI image layout archive (the format `ctr images import` reads)
// from layers described as tar entries, with strata's own layout writer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pack } from 'tar-stream';
import type { Compression } from '../../src/diff/compression';
import { LayoutWriter, packLayout, writeTarLayer } from '../../src/images/layout-writer';
import { chainIds } from '../../src/images/resolve';
import { ustarSafe } from '../../src/tar-pack';
import { CONTAINERD_NAME_ANNOTATION, MEDIA_TYPES, REF_NAME_ANNOTATION, type Descriptor } from '../../src/images/types';
import type { LayerEntry } from './tar-entries';

export type LayerCompression = Compression;

export interface OciArchiveOptions {
  /** Directory for the archive and its staging files; must exist. */
  dir: string;
  /** Full image reference, e.g. `docker.io/library/name:tag`; `ctr images import` names the image after it. */
  imageName: string;
  /** Bottom layer first. */
  layers: LayerEntry[][];
  compression?: LayerCompression;
  /** The image config's `config` (Entrypoint, Cmd, Env...); empty by default. */
  runConfig?: Record<string, unknown>;
}

export interface OciArchive {
  archivePath: string;
  /** sha256 of each uncompressed layer tar, bottom first. */
  diffIds: string[];
  /** Snapshot names containerd gives the unpacked layers, bottom first. */
  chainIds: string[];
  /** Digests of the layer blobs as stored (compressed when compression is not 'none'). */
  layerDigests: string[];
  manifestDigest: string;
}

// Entries without an explicit time get this one, so rebuilding gives identical blobs.
const FIXED_MTIME = new Date('2020-01-02T03:04:05Z');

async function addEntries(packer: Pack, entries: LayerEntry[]): Promise<void> {
  for (const { header, content } of entries) {
    // tar-stream fills in defaults on the header it is given, so hand it a copy.
    const copy = ustarSafe({ ...header, mtime: header.mtime ?? FIXED_MTIME });
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (header.type === 'file') packer.entry(copy, content ?? Buffer.alloc(0), done);
      else packer.entry(copy, done);
    });
  }
}

/** Tags are what follows the last ':' after the last '/'; the OCI ref.name annotation carries only that. */
function tagOf(imageName: string): string {
  const lastPart = imageName.slice(imageName.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  return colon === -1 ? 'latest' : lastPart.slice(colon + 1);
}

export async function buildOciArchive(options: OciArchiveOptions): Promise<OciArchive> {
  const compression = options.compression ?? 'gzip';
  const layoutDir = await fs.promises.mkdtemp(path.join(options.dir, 'oci-layout-'));
  const writer = await LayoutWriter.create(layoutDir);
  const diffIds: string[] = [];
  const layers: Descriptor[] = [];
  for (const entries of options.layers) {
    const layer = await writeTarLayer(writer, compression, (packer) => addEntries(packer, entries));
    diffIds.push(layer.diffId);
    layers.push(layer.descriptor);
  }
  const config = await writer.writeJson(MEDIA_TYPES.ociConfig, {
    architecture: 'amd64',
    os: 'linux',
    config: options.runConfig ?? {},
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const manifest = await writer.writeJson(MEDIA_TYPES.ociManifest, { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers });
  await writer.finish([
    {
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { [CONTAINERD_NAME_ANNOTATION]: options.imageName, [REF_NAME_ANNOTATION]: tagOf(options.imageName) },
    },
  ]);
  const archivePath = path.join(options.dir, 'image.oci.tar');
  await packLayout(layoutDir, archivePath);
  await fs.promises.rm(layoutDir, { recursive: true });
  return {
    archivePath,
    diffIds,
    chainIds: chainIds(diffIds),
    layerDigests: layers.map((layer) => layer.digest),
    manifestDigest: manifest.digest,
  };
}
