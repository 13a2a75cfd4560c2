// Builds an OCI image layout archive (the format `ctr images import` reads)
// from layers described as tar entries, without any external tool.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack, type Pack } from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import type { LayerEntry } from './tar-entries';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface OciArchiveOptions {
  /** Directory for the archive and its staging files; must exist. */
  dir: string;
  /** Full image reference, e.g. `docker.io/library/name:tag`; `ctr images import` names the image after it. */
  imageName: string;
  /** Bottom layer first. */
  layers: LayerEntry[][];
  compression?: LayerCompression;
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

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const LAYER_MEDIA_TYPES: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

// Entries without an explicit time get this one, so rebuilding gives identical blobs.
const FIXED_MTIME = new Date('2020-01-02T03:04:05Z');

/** Passes bytes through unchanged while hashing and counting them. */
class Digester extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** chainID(0) = diffID(0); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)), per the OCI image spec. */
export function chainIds(diffIds: string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const previous = chain[chain.length - 1];
    chain.push(previous === undefined ? diffId : sha256(`${previous} ${diffId}`));
  }
  return chain;
}

function compressor(compression: LayerCompression): Transform {
  switch (compression) {
    case 'gzip':
      return createGzip();
    case 'zstd':
      return new CompressStream();
    case 'none':
      return new PassThrough();
  }
}

async function addEntries(packer: Pack, entries: LayerEntry[]): Promise<void> {
  for (const { header, content } of entries) {
    // tar-stream fills in defaults on the header it is given, so hand it a copy.
    const copy = { ...header, mtime: header.mtime ?? FIXED_MTIME };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (header.type === 'file') packer.entry(copy, content ?? Buffer.alloc(0), done);
      else packer.entry(copy, done);
    });
  }
  packer.finalize();
}

interface BlobStore {
  dir: string;
  /** Where a layer is written while its digest is not yet known (outside dir, so never packed). */
  stagingPath: string;
  /** Moves the finished staging file to blobs/sha256/<hex of digest>. */
  adoptStaged(digest: string): Promise<void>;
  /** Stores a small JSON document as a blob and describes it. */
  write(mediaType: string, document: object): Promise<Descriptor>;
}

function blobStore(layoutDir: string): BlobStore {
  const dir = path.join(layoutDir, 'blobs', 'sha256');
  const blobPath = (digest: string): string => path.join(dir, digest.slice('sha256:'.length));
  const stagingPath = path.join(layoutDir, 'layer.partial');
  return {
    dir,
    stagingPath,
    adoptStaged: (digest) => fs.promises.rename(stagingPath, blobPath(digest)),
    async write(mediaType, document) {
      const data = JSON.stringify(document);
      const digest = sha256(data);
      await fs.promises.writeFile(blobPath(digest), data);
      return { mediaType, digest, size: Buffer.byteLength(data) };
    },
  };
}

async function writeLayer(
  blobs: BlobStore,
  entries: LayerEntry[],
  compression: LayerCompression,
): Promise<{ diffId: string; descriptor: Descriptor }> {
  const packer = pack();
  const uncompressed = new Digester();
  const stored = new Digester();
  await Promise.all([
    pipeline(packer, uncompressed, compressor(compression), stored, fs.createWriteStream(blobs.stagingPath)),
    addEntries(packer, entries),
  ]);
  const digest = stored.digest();
  await blobs.adoptStaged(digest);
  return {
    diffId: uncompressed.digest(),
    descriptor: { mediaType: LAYER_MEDIA_TYPES[compression], digest, size: stored.size },
  };
}

/** Tags are what follows the last ':' after the last '/'; the OCI ref.name annotation carries only that. */
function tagOf(imageName: string): string {
  const lastPart = imageName.slice(imageName.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  return colon === -1 ? 'latest' : lastPart.slice(colon + 1);
}

/** Packs the layout directory into one tar, streaming each blob from disk. */
async function packLayout(layoutDir: string, archivePath: string): Promise<void> {
  const packer = pack();
  const writing = pipeline(packer, fs.createWriteStream(archivePath));
  const members = ['oci-layout', 'index.json', 'blobs', 'blobs/sha256'];
  const blobNames = await fs.promises.readdir(path.join(layoutDir, 'blobs', 'sha256'));
  members.push(...blobNames.sort().map((name) => `blobs/sha256/${name}`));
  for (const name of members) {
    const stat = await fs.promises.stat(path.join(layoutDir, name));
    const header = { name, mtime: FIXED_MTIME, mode: stat.isDirectory() ? 0o755 : 0o644 };
    if (stat.isDirectory()) {
      await new Promise<void>((resolve, reject) =>
        packer.entry({ ...header, type: 'directory' }, (error) => (error ? reject(error) : resolve())),
      );
    } else {
      const sink = packer.entry({ ...header, type: 'file', size: stat.size });
      await pipeline(fs.createReadStream(path.join(layoutDir, name)), sink);
    }
  }
  packer.finalize();
  await writing;
}

export async function buildOciArchive(options: OciArchiveOptions): Promise<OciArchive> {
  const compression = options.compression ?? 'gzip';
  const layoutDir = await fs.promises.mkdtemp(path.join(options.dir, 'oci-layout-'));
  const blobs = blobStore(layoutDir);
  await fs.promises.mkdir(blobs.dir, { recursive: true });

  const diffIds: string[] = [];
  const layers: Descriptor[] = [];
  for (const entries of options.layers) {
    const { diffId, descriptor } = await writeLayer(blobs, entries, compression);
    diffIds.push(diffId);
    layers.push(descriptor);
  }

  const config = await blobs.write('application/vnd.oci.image.config.v1+json', {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const manifestMediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = await blobs.write(manifestMediaType, {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config,
    layers,
  });
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        ...manifest,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: {
          'io.containerd.image.name': options.imageName,
          'org.opencontainers.image.ref.name': tagOf(options.imageName),
        },
      },
    ],
  };
  await fs.promises.writeFile(path.join(layoutDir, 'index.json'), JSON.stringify(index));
  await fs.promises.writeFile(path.join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

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
