// Reads an OCI image archive (as oci-archive.ts writes it) back: the layer
// blobs with their descriptors, and the diff IDs the image config declares,
// so a test can hand the very same blobs to strata that ctr imports.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { decompress as zstdDecompress } from 'zstd-napi';

export interface ArchiveLayer {
  mediaType: string;
  /** Digest of the blob as stored (compressed or not). */
  digest: string;
  size: number;
  blob: Buffer;
  /** From the image config's rootfs.diff_ids. */
  diffId: string;
  /** Size of the layer once decompressed. */
  uncompressedSize: number;
}

interface JsonDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Every regular member of a tar file, by name. */
async function tarMembers(tarPath: string): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>();
  const extractor = extract();
  const reading = pipeline(fs.createReadStream(tarPath), extractor);
  for await (const entry of extractor) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') members.set(entry.header.name, Buffer.concat(chunks));
  }
  await reading;
  return members;
}

/** Decompresses a layer blob according to its media type's suffix. */
export function uncompressLayer(mediaType: string, blob: Buffer): Buffer {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return gunzipSync(blob);
  if (mediaType.endsWith('+zstd')) return zstdDecompress(blob);
  return blob;
}

/** The layers of the single image in an OCI archive, bottom first. */
export async function readArchiveLayers(archivePath: string): Promise<ArchiveLayer[]> {
  const members = await tarMembers(archivePath);
  const json = <T>(name: string): T => {
    const data = members.get(name);
    if (data === undefined) throw new Error(`${archivePath} has no ${name}`);
    return JSON.parse(data.toString('utf8')) as T;
  };
  const blob = (digest: string): Buffer => {
    const name = `blobs/sha256/${digest.slice('sha256:'.length)}`;
    const data = members.get(name);
    if (data === undefined) throw new Error(`${archivePath} has no blob ${digest}`);
    if (sha256(data) !== digest) throw new Error(`${archivePath}: blob ${digest} does not match its digest`);
    return data;
  };
  const index = json<{ manifests: JsonDescriptor[] }>('index.json');
  if (index.manifests.length !== 1) throw new Error(`${archivePath}: expected one manifest, found ${index.manifests.length}`);
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString('utf8')) as { config: JsonDescriptor; layers: JsonDescriptor[] };
  const config = JSON.parse(blob(manifest.config.digest).toString('utf8')) as { rootfs: { diff_ids: string[] } };
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new Error(`${archivePath}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff IDs`);
  }
  return manifest.layers.map((layer, i) => {
    const data = blob(layer.digest);
    return {
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      blob: data,
      diffId: config.rootfs.diff_ids[i],
      uncompressedSize: uncompressLayer(layer.mediaType, data).length,
    };
  });
}
