// Test images described entry by entry: each layer a list of files, dirs,
// links, whiteouts and opaque markers, written as a one-platform OCI layout
// and as its archive, with the diff IDs the layer writer computed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type * as tar from 'tar-stream';
import type { Compression } from '../diff/compression';
import { LayoutWriter, packLayout, writeTarLayer } from '../images/layout-writer';
import { MEDIA_TYPES, type Descriptor } from '../images/types';
import { addEntry } from '../tar-pack';

/** A layer entry as the tests describe it; the builder turns it into tar members. */
export type Spec =
  | { op: 'file'; path: string; size: number }
  | { op: 'dir'; path: string }
  | { op: 'symlink'; path: string; target: string }
  | { op: 'hardlink'; path: string; target: string }
  | { op: 'whiteout'; path: string }
  | { op: 'opaque'; dir: string };

function tarName(spec: Spec): string {
  if (spec.op === 'opaque') return spec.dir === '' ? '.wh..wh..opq' : `${spec.dir}/.wh..wh..opq`;
  if (spec.op === 'whiteout') {
    const dir = path.posix.dirname(spec.path);
    return `${dir === '.' ? '' : `${dir}/`}.wh.${path.posix.basename(spec.path)}`;
  }
  return spec.path;
}

async function addSpec(pack: tar.Pack, spec: Spec, seed: number): Promise<void> {
  const name = tarName(spec);
  const mtime = new Date('2021-01-01T00:00:00Z');
  if (spec.op === 'file') {
    const data = Buffer.alloc(spec.size, seed & 0xff);
    await addEntry(pack, { name, size: data.length, mode: 0o644, mtime }, Readable.from([data]));
  } else if (spec.op === 'dir') await addEntry(pack, { name, type: 'directory', mode: 0o755, mtime });
  else if (spec.op === 'symlink') await addEntry(pack, { name, type: 'symlink', linkname: spec.target, mode: 0o777, mtime });
  else if (spec.op === 'hardlink') await addEntry(pack, { name, type: 'link', linkname: spec.target, mode: 0o644, mtime });
  else await addEntry(pack, { name, size: 0, mode: 0o644, mtime }, Readable.from([Buffer.alloc(0)]));
}

export interface BuiltImage {
  layoutDir: string;
  /** The layout as an OCI archive: what `ctr images export` and `skopeo copy oci-archive:` write. */
  archive: string;
  manifestDigest: string;
  diffIds: string[];
  uncompressed: number[];
}

let builds = 0;

/** An image of `layers`, layer i compressed with compressions[i mod length]; `config` adds to its config. */
export async function buildSpecImage(dir: string, layers: Spec[][], compressions: Compression[], config: object = {}): Promise<BuiltImage> {
  const layoutDir = path.join(dir, `layout-${builds++}`);
  const writer = await LayoutWriter.create(layoutDir);
  const written = [];
  for (const [i, specs] of layers.entries()) {
    written.push(
      await writeTarLayer(writer, compressions[i % compressions.length], async (pack) => {
        for (const [j, spec] of specs.entries()) await addSpec(pack, spec, i * 31 + j);
      }),
    );
  }
  const diffIds = written.map((w) => w.diffId);
  const configDescriptor = await writer.writeJson(MEDIA_TYPES.ociConfig, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, ...config });
  const manifest = await writer.writeJson(MEDIA_TYPES.ociManifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: configDescriptor,
    layers: written.map((w) => w.descriptor),
  });
  await writer.finish([{ ...manifest, platform: { os: 'linux', architecture: 'amd64' } }]);
  const archive = `${layoutDir}.tar`;
  await packLayout(layoutDir, archive);
  return { layoutDir, archive, manifestDigest: manifest.digest, diffIds, uncompressed: written.map((w) => w.uncompressedSize) };
}

/**
 * The image as `docker save` wrote it before Docker 25, with no OCI layout:
 * each layer tar under a directory of its own, the config beside them, and
 * manifest.json naming them, last, as docker writes it. Docker saved layers
 * uncompressed, so the image's must be ('none').
 */
export async function writeDockerSave(image: BuiltImage, archive: string, repoTag: string): Promise<void> {
  const blob = (digest: string) => path.join(image.layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const readJson = async (digest: string) => JSON.parse(await fs.promises.readFile(blob(digest), 'utf8'));
  const index = JSON.parse(await fs.promises.readFile(path.join(image.layoutDir, 'index.json'), 'utf8'));
  const manifest = (await readJson(index.manifests[0].digest)) as { config: Descriptor; layers: Descriptor[] };
  const dir = await fs.promises.mkdtemp(`${archive}.staging-`);
  try {
    const members: string[] = [];
    for (const layer of manifest.layers) {
      if (layer.mediaType !== MEDIA_TYPES.ociLayer) throw new Error(`docker save holds uncompressed layers, not ${layer.mediaType}`);
      const name = `${layer.digest.slice('sha256:'.length)}/layer.tar`;
      await fs.promises.mkdir(path.dirname(path.join(dir, name)));
      await fs.promises.copyFile(blob(layer.digest), path.join(dir, name));
      members.push(name);
    }
    const config = `${manifest.config.digest.slice('sha256:'.length)}.json`;
    await fs.promises.copyFile(blob(manifest.config.digest), path.join(dir, config));
    await fs.promises.writeFile(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: config, RepoTags: [repoTag], Layers: members }]));
    await promisify(execFile)('tar', ['-cf', archive, '-C', dir, ...members, config, 'manifest.json']);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
