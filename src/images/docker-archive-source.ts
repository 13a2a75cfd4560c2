// A `docker save` archive (the format before Docker 25, without an OCI
// layout inside) as an image source. Its manifest.json names a config file
// and uncompressed layer tars by path; a manifest with digests is made up
// from them, as containerd's importer does: each layer's digest is its diff ID.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../errdefs';
import { readLayoutFile, type LayoutFiles } from './layout-files';
import type { ImageSource } from './source';
import { MEDIA_TYPES, type Descriptor, type ImageConfig, type ImageManifest } from './types';

interface SavedImage {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';


const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export class DockerArchiveSource implements ImageSource {
  /** Digest to what it is: the made-up manifest, the config, or a layer file. */
  private readonly blobs = new Map<string, { bytes?: Buffer; file?: string }>();

  constructor(
    private readonly files: LayoutFiles,
    private readonly ref?: string,
  ) {}

  get name(): string {
    return this.ref ? `${this.files.name}:${this.ref}` : this.files.name;
  }

  async top(): Promise<Descriptor> {
    const saved = this.choose(this.parse(await readLayoutFile(this.files, 'manifest.json')));
    const configBytes = await readLayoutFile(this.files, saved.Config).catch(() => {
      throw notFound(`${this.name}: manifest.json names config ${saved.Config}, which the archive does not hold`);
    });
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (err) {
      throw invalidArgument(`${this.name}: ${saved.Config} is not JSON: ${(err as Error).message}`);
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== saved.Layers.length) {
      throw invalidArgument(`${this.name}: ${saved.Layers.length} layers but ${diffIds.length} diff IDs`);
    }
    const layers: Descriptor[] = [];
    for (const [i, file] of saved.Layers.entries()) {
      const size = await this.files.size(file);
      if (size === undefined) throw notFound(`${this.name}: manifest.json names layer ${file}, which the archive does not hold`);
      layers.push({ mediaType: DOCKER_LAYER, digest: diffIds[i], size });
      this.blobs.set(diffIds[i], { file });
    }
    const configDescriptor = { mediaType: MEDIA_TYPES.dockerConfig, digest: sha256(configBytes), size: configBytes.length };
    this.blobs.set(configDescriptor.digest, { bytes: configBytes });
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: configDescriptor, layers };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = { mediaType: MEDIA_TYPES.dockerManifest, digest: sha256(manifestBytes), size: manifestBytes.length };
    this.blobs.set(descriptor.digest, { bytes: manifestBytes });
    return descriptor;
  }

  async open(descriptor: Descriptor): Promise<Readable> {
    const blob = this.blobs.get(descriptor.digest);
    if (!blob) throw notFound(`${this.name} has no blob ${descriptor.digest}`);
    return blob.bytes ? Readable.from([blob.bytes]) : this.files.open(blob.file as string);
  }

  close(): Promise<void> {
    return this.files.close();
  }

  private parse(data: Buffer): SavedImage[] {
    let images: unknown;
    try {
      images = JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw invalidArgument(`${this.name}: manifest.json is not JSON: ${(err as Error).message}`);
    }
    const valid = (i: unknown): i is SavedImage =>
      typeof i === 'object' && i !== null && typeof (i as SavedImage).Config === 'string' && Array.isArray((i as SavedImage).Layers);
    if (!Array.isArray(images) || !images.every(valid)) throw invalidArgument(`${this.name}: manifest.json is not a docker save manifest`);
    return images;
  }

  private choose(images: SavedImage[]): SavedImage {
    const tags = images.flatMap((i) => i.RepoTags ?? []);
    if (this.ref !== undefined) {
      const named = images.find((i) => (i.RepoTags ?? []).some((tag) => tag === this.ref || tag.endsWith(`/${this.ref}`)));
      if (!named) throw notFound(`${this.files.name} has no image named ${this.ref} (it has ${tags.join(', ') || 'no tags'})`);
      return named;
    }
    if (images.length === 1) return images[0];
    throw invalidArgument(`${this.files.name} holds ${images.length} images: name one as ${this.files.name}:TAG (${tags.join(', ')})`);
  }
}
