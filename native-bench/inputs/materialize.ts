// Puts every input image on disk, once: an OCI layout per image and
// compression (its layer blobs are the files every arm reads), and the same
// layout as an archive for `ctr images import`. Generated images are made
// uncompressed first, then compressed from that tar, so all three
// compressions carry the very same layers. Images the user names are copied
// from wherever they live (any image source) as they are.
import fs from 'node:fs';
import path from 'node:path';
import type { Compression } from '../../src/diff/compression';
import { compression as compressionStages, compressionOf } from '../../src/diff/compression';
import { LayoutWriter, packLayout, writeTarLayer } from '../../src/images/layout-writer';
import { openImageSource } from '../../src/images/open-source';
import { hostPlatform } from '../../src/images/platform';
import { chainIds, resolveImage } from '../../src/images/resolve';
import { CONTAINERD_NAME_ANNOTATION, MEDIA_TYPES, REF_NAME_ANNOTATION, type Descriptor } from '../../src/images/types';
import { GENERATORS } from './generators';
import { LayerBuilder } from './layer-builder';

/** Bump when a generator changes, so cached inputs are made again. */
const GENERATOR_VERSION = 1;

export interface InputLayer {
  /** The blob file in the layout: what every arm reads. */
  file: string;
  descriptor: Descriptor;
  compression: Compression;
  diffId: string;
  uncompressedSize: number;
  /** Tar entries, when known (generated images); counted by the parse arm otherwise. */
  entries?: number;
}

export interface InputImage {
  /** generator-compression, or a name derived from the user's reference. */
  id: string;
  image: string;
  compression: Compression | 'as published';
  /** Full image name, as ctr imports and pulls it. */
  reference: string;
  layoutDir: string;
  archive: string;
  manifestDigest: string;
  layers: InputLayer[];
  chainIds: string[];
  uncompressedSize: number;
  entries?: number;
  version: number;
  scale: number;
}

const MEDIA_TYPE: Record<Compression, string> = {
  none: MEDIA_TYPES.ociLayer,
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd,
};

async function cached(dir: string, scale: number): Promise<InputImage | undefined> {
  try {
    const input = JSON.parse(await fs.promises.readFile(path.join(dir, 'input.json'), 'utf8')) as InputImage;
    if (input.version === GENERATOR_VERSION && input.scale === scale && fs.existsSync(input.archive)) return input;
  } catch {
    // Not made yet, or made by an older generator.
  }
  return undefined;
}

/** Writes config, manifest and index.json around the layers, packs the archive, and records the input. */
async function finishImage(
  writer: LayoutWriter,
  partial: Omit<InputImage, 'manifestDigest' | 'chainIds' | 'archive' | 'uncompressedSize' | 'version' | 'layoutDir'>,
  configExtra: object = {},
): Promise<InputImage> {
  const diffIds = partial.layers.map((l) => l.diffId);
  const config = await writer.writeJson(MEDIA_TYPES.ociConfig, {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    ...configExtra,
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const manifest = await writer.writeJson(MEDIA_TYPES.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config,
    layers: partial.layers.map((l) => l.descriptor),
  });
  const tag = partial.reference.slice(partial.reference.lastIndexOf(':') + 1);
  await writer.finish([
    {
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { [CONTAINERD_NAME_ANNOTATION]: partial.reference, [REF_NAME_ANNOTATION]: tag },
    },
  ]);
  const archive = `${writer.dir}.tar`;
  await packLayout(writer.dir, archive);
  const input: InputImage = {
    ...partial,
    layoutDir: writer.dir,
    archive,
    manifestDigest: manifest.digest,
    chainIds: chainIds(diffIds),
    uncompressedSize: partial.layers.reduce((sum, l) => sum + l.uncompressedSize, 0),
    version: GENERATOR_VERSION,
  };
  await fs.promises.writeFile(path.join(writer.dir, 'input.json'), JSON.stringify(input, null, 2));
  return input;
}

/** A generated image in each of `compressions`, made (or found made) under `dir`. */
export async function generatedImages(dir: string, image: string, compressions: readonly Compression[], scale: number): Promise<InputImage[]> {
  const id = (c: Compression) => `${image}-${c}`;
  const found = await Promise.all(compressions.map((c) => cached(path.join(dir, id(c)), scale)));
  if (found.every((f) => f !== undefined)) return found as InputImage[];
  const generated = GENERATORS[image](scale);
  // The uncompressed image first: its layer tars are compressed into the others.
  const plainDir = path.join(dir, id('none'));
  await fs.promises.rm(plainDir, { recursive: true, force: true });
  const plainWriter = await LayoutWriter.create(plainDir);
  const plainLayers: InputLayer[] = [];
  for (const fill of generated.layers) {
    let entries = 0;
    const layer = await writeTarLayer(plainWriter, 'none', async (pack) => {
      const builder = new LayerBuilder(pack);
      await fill(builder);
      entries = builder.entries;
    });
    plainLayers.push({ file: plainWriter.blobPath(layer.descriptor.digest), compression: 'none', entries, ...layer });
  }
  const entries = plainLayers.reduce((sum, l) => sum + (l.entries ?? 0), 0);
  const reference = (c: Compression) => `docker.io/strata-bench/${image}:${c}`;
  const made: Record<string, InputImage> = {
    none: await finishImage(plainWriter, { id: id('none'), image, compression: 'none', reference: reference('none'), layers: plainLayers, entries, scale }),
  };
  for (const c of compressions.filter((c) => c !== 'none')) {
    const layoutDir = path.join(dir, id(c));
    await fs.promises.rm(layoutDir, { recursive: true, force: true });
    const writer = await LayoutWriter.create(layoutDir);
    const layers: InputLayer[] = [];
    for (const plain of plainLayers) {
      const descriptor = await writer.writeBlob(MEDIA_TYPE[c], fs.createReadStream(plain.file), compressionStages(c));
      layers.push({ ...plain, file: writer.blobPath(descriptor.digest), compression: c, descriptor });
    }
    made[c] = await finishImage(writer, { id: id(c), image, compression: c, reference: reference(c), layers, entries, scale });
  }
  if (!compressions.includes('none')) await fs.promises.rm(plainDir, { recursive: true, force: true });
  return compressions.map((c) => made[c]);
}

/** An image the user named (any reference openImageSource takes), copied into `dir` as it is. */
export async function userImage(dir: string, reference: string, options: { plainHttp?: boolean }): Promise<InputImage> {
  const source = await openImageSource(reference, options);
  try {
    const resolved = await resolveImage(source, hostPlatform());
    const id = `user-${resolved.manifestDescriptor.digest.slice(7, 19)}`;
    const layoutDir = path.join(dir, id);
    const done = await cached(layoutDir, 1);
    if (done) return done;
    await fs.promises.rm(layoutDir, { recursive: true, force: true });
    const writer = await LayoutWriter.create(layoutDir);
    const layers: InputLayer[] = [];
    for (const [i, descriptor] of resolved.manifest.layers.entries()) {
      const kind = compressionOf(descriptor.mediaType);
      if (!kind) throw new Error(`${reference}: layer ${i} has media type ${descriptor.mediaType}, which strata bench cannot unpack`);
      const written = await writer.writeBlob(descriptor.mediaType, await source.open(descriptor));
      if (written.digest !== descriptor.digest) throw new Error(`${reference}: layer ${descriptor.digest} arrived as ${written.digest}`);
      layers.push({
        file: writer.blobPath(written.digest),
        descriptor,
        compression: kind,
        diffId: resolved.config.rootfs.diff_ids[i],
        // Known once the parse arm has run; the layer's own size until then.
        uncompressedSize: descriptor.size,
      });
    }
    const compressions = new Set(layers.map((l) => l.compression));
    const name = reference.replace(/^[a-z-]+:(\/\/)?/, '').replace(/[^A-Za-z0-9._/-]+/g, '-').toLowerCase();
    return await finishImage(
      writer,
      {
        id,
        image: reference,
        compression: compressions.size === 1 ? [...compressions][0] : 'as published',
        reference: `docker.io/strata-bench/${name.replace(/\//g, '-').slice(0, 60)}:user`,
        layers,
        scale: 1,
      },
      { architecture: resolved.config.architecture, os: resolved.config.os },
    );
  } finally {
    await source.close();
  }
}
