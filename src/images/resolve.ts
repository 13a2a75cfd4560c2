// From an image source's top to one platform's manifest and config: indexes
// are walked (nested ones too) to the manifest that matches the platform, and
// every JSON document read is checked against its digest.
import { createHash } from 'node:crypto';
import { chainId } from '../chain-id';
import { failedPrecondition, invalidArgument, notFound } from '../errdefs';
import { formatPlatform, platformMatches } from './platform';
import type { ImageSource } from './source';
import { isIndex, isManifest, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './types';

/** Manifests, indexes and configs are small; anything larger is not one. */
const MAX_DOCUMENT = 8 << 20;

export interface ResolvedImage {
  /** The index the manifest was chosen from, when there was one (the innermost). */
  index?: ImageIndex;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

export async function readBlob(source: ImageSource, descriptor: Descriptor, limit = MAX_DOCUMENT): Promise<Buffer> {
  if (descriptor.size > limit) throw invalidArgument(`${descriptor.digest} is ${descriptor.size} bytes, more than ${limit}`);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of await source.open(descriptor)) {
    length += (chunk as Buffer).length;
    if (length > limit) throw invalidArgument(`${descriptor.digest} is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const data = Buffer.concat(chunks);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (digest !== descriptor.digest) throw failedPrecondition(`${source.name}: blob ${descriptor.digest} has digest ${digest}`);
  return data;
}

export async function readJson<T>(source: ImageSource, descriptor: Descriptor): Promise<T> {
  const data = await readBlob(source, descriptor);
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw invalidArgument(`${source.name}: ${descriptor.digest} is not JSON: ${(err as Error).message}`);
  }
}

/** An index's or manifest's own mediaType field, for descriptors that do not say (a digest given alone). */
export function sniffMediaType(document: { mediaType?: string; manifests?: unknown; config?: unknown }): string | undefined {
  if (document.mediaType) return document.mediaType;
  if (Array.isArray(document.manifests)) return 'application/vnd.oci.image.index.v1+json';
  if (document.config) return 'application/vnd.oci.image.manifest.v1+json';
  return undefined;
}

function choose(index: ImageIndex, platform: Platform, name: string): Descriptor {
  const candidates = index.manifests.filter((m) => isIndex(m.mediaType) || isManifest(m.mediaType));
  // An index with a single image and no platforms (a plain OCI layout) is that image.
  if (candidates.length === 1 && !candidates[0].platform) return candidates[0];
  const match = candidates.find((m) => platformMatches(platform, m.platform));
  if (match) return match;
  const offered = candidates.map((m) => (m.platform ? formatPlatform(m.platform) : m.digest)).join(', ');
  throw notFound(`${name}: no image for ${formatPlatform(platform)} (it has ${offered || 'no images'})`);
}

export async function resolveImage(source: ImageSource, platform: Platform): Promise<ResolvedImage> {
  const top = await source.top();
  let index: ImageIndex | undefined;
  let descriptor: Descriptor;
  if ('index' in top) {
    index = top.index;
    descriptor = choose(index, platform, source.name);
  } else {
    descriptor = top;
  }
  for (let depth = 0; isIndex(descriptor.mediaType); depth++) {
    if (depth > 4) throw invalidArgument(`${source.name}: indexes nested too deep`);
    index = await readJson<ImageIndex>(source, descriptor);
    descriptor = choose(index, platform, source.name);
  }
  if (!isManifest(descriptor.mediaType)) {
    throw invalidArgument(`${source.name}: ${descriptor.digest} is ${descriptor.mediaType}, not an image manifest`);
  }
  const manifest = await readJson<ImageManifest>(source, descriptor);
  const config = await readJson<ImageConfig>(source, manifest.config);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalidArgument(`${source.name}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff IDs`);
  }
  return { index, manifestDescriptor: descriptor, manifest, config };
}

/** chainID(0) = diffID(0); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)): the snapshot names containerd gives layers. */
export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) chain.push(chainId(chain[chain.length - 1], diffId));
  return chain;
}
