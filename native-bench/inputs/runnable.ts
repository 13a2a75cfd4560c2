// An input image with a statically linked busybox on top, for the arms that
// start a container from it: the generated images hold no program at all,
// and one the user names may hold none that runs on its own. The layers
// below are the input's own (hard links to its blobs), so a pull of this
// image fetches and unpacks the very layers the other arms do, plus one of
// about 1 MB compressed.
import fs from 'node:fs';
import path from 'node:path';
import type { Compression } from '../../src/diff/compression';
import { LayoutWriter, writeTarLayer } from '../../src/images/layout-writer';
import { MEDIA_TYPES, type Descriptor, type ImageConfig } from '../../src/images/types';
import { LayerBuilder } from './layer-builder';
import type { InputImage } from './materialize';

/** Debian's busybox-static: linked statically, so it runs on any root. */
const BUSYBOX = '/bin/busybox';

/** What the container runs: busybox's `true`, which exits at once. */
export const RUN_COMMAND = ['/strata-bench/busybox', 'true'];

async function readBlob<T>(layoutDir: string, digest: string): Promise<T> {
  return JSON.parse(await fs.promises.readFile(path.join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8')) as T;
}

/** Writes the runnable variant of `input` as an OCI layout under `dir`; returns the layout's directory. */
export async function runnableLayout(input: InputImage, dir: string): Promise<string> {
  const layoutDir = path.join(dir, `${input.id}-runnable`);
  await fs.promises.rm(layoutDir, { recursive: true, force: true });
  const writer = await LayoutWriter.create(layoutDir);
  // By digest: an image may list the same layer twice.
  const blobs = new Map(input.layers.map((layer) => [layer.descriptor.digest, layer.file]));
  for (const [digest, file] of blobs) await fs.promises.link(file, writer.blobPath(digest));
  // The input's own compression; gzip under an image whose layers mix them.
  const compression: Compression = input.compression === 'as published' ? 'gzip' : input.compression;
  const busybox = await fs.promises.readFile(BUSYBOX);
  const top = await writeTarLayer(writer, compression, async (pack) => {
    const builder = new LayerBuilder(pack);
    await builder.dir('strata-bench');
    await builder.file('strata-bench/busybox', busybox, 0o755);
  });
  const manifest = await readBlob<{ config: Descriptor; layers: Descriptor[] }>(input.layoutDir, input.manifestDigest);
  const config = await readBlob<ImageConfig>(input.layoutDir, manifest.config.digest);
  const runnableConfig = await writer.writeJson(MEDIA_TYPES.ociConfig, {
    ...config,
    config: { ...config.config, Entrypoint: null, Cmd: RUN_COMMAND },
    rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, top.diffId] },
    ...(config.history ? { history: [...config.history, { created_by: 'strata bench: a static busybox to run' }] } : {}),
  });
  const runnableManifest = await writer.writeJson(MEDIA_TYPES.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: runnableConfig,
    layers: [...manifest.layers, top.descriptor],
  });
  await writer.finish([{ ...runnableManifest, platform: { architecture: config.architecture, os: config.os } }]);
  return layoutDir;
}
