// Which layers make which images, read from image manifests and configs as
// they land in the content store: each layer's place in its image, the diff
// ID its config promises, and the chain ID it has there. A pull commits the
// manifest and config before any layer, so the plan is known by the time
// containerd's unpacker asks for the first layer's snapshot.
import { chainId } from '../chain-id';
import type { Descriptor } from '../diff/types';

/** Manifests and configs are small; a larger blob is not read to find out. */
export const SMALL_BLOB_BYTES = 4 << 20;

/** Plans of this many images are kept, the oldest forgotten first. */
const IMAGES_KEPT = 256;

const LAYER_MEDIA_TYPE = /^application\/vnd\.(oci\.image\.layer\.v1\.tar|docker\.image\.rootfs\.diff\.tar)(\+gzip|\+zstd|\.gzip|\.zstd)?$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface LayerPlan {
  /** The image manifest's digest. */
  image: string;
  index: number;
  layer: Descriptor;
  diffId: string;
  chainId: string;
  /** The chain ID of the layers beneath; undefined for the base layer. */
  parentChainId?: string;
}

interface Manifest {
  config: string;
  layers: Descriptor[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The descriptor, if it is one of a layer strata can unpack. */
function layerDescriptor(value: unknown): Descriptor | undefined {
  if (!isObject(value)) return undefined;
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || !LAYER_MEDIA_TYPE.test(mediaType)) return undefined;
  if (typeof digest !== 'string' || !DIGEST.test(digest) || typeof size !== 'number') return undefined;
  return { mediaType, digest, size, annotations: {} };
}

/** An image manifest with a config and only unpackable layers; undefined for anything else. */
function parseManifest(json: unknown): Manifest | undefined {
  if (!isObject(json) || !isObject(json.config) || !Array.isArray(json.layers) || json.layers.length === 0) return undefined;
  const config = json.config.digest;
  if (typeof config !== 'string' || !DIGEST.test(config)) return undefined;
  const layers = json.layers.map(layerDescriptor);
  return layers.every((layer): layer is Descriptor => layer !== undefined) ? { config, layers } : undefined;
}

/** An image config's diff IDs; undefined for anything else. */
function parseDiffIds(json: unknown): string[] | undefined {
  if (!isObject(json) || !isObject(json.rootfs)) return undefined;
  const ids = json.rootfs.diff_ids;
  return Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string' && DIGEST.test(id)) ? (ids as string[]) : undefined;
}

export class ImagePlans {
  private readonly manifests = new Map<string, Manifest>();
  private readonly configs = new Map<string, string[]>();

  /** Reads a committed blob's bytes, if it is a manifest or a config; says whether it was. */
  note(digest: string, bytes: Buffer): boolean {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return false;
    }
    const manifest = parseManifest(json);
    if (manifest) {
      this.keep(this.manifests, digest, manifest);
      return true;
    }
    const diffIds = parseDiffIds(json);
    if (diffIds) {
      this.keep(this.configs, digest, diffIds);
      return true;
    }
    return false;
  }

  private keep<T>(map: Map<string, T>, digest: string, value: T): void {
    map.delete(digest);
    map.set(digest, value);
    if (map.size > IMAGES_KEPT) map.delete(map.keys().next().value as string);
  }

  forget(digest: string): void {
    this.manifests.delete(digest);
    this.configs.delete(digest);
  }

  /** Every layer of every image whose manifest and config are both known, and agree on the number of layers. */
  *plans(): Generator<LayerPlan> {
    for (const [image, manifest] of this.manifests) {
      const diffIds = this.configs.get(manifest.config);
      if (!diffIds || diffIds.length !== manifest.layers.length) continue;
      let parentChainId: string | undefined;
      for (const [index, layer] of manifest.layers.entries()) {
        const chain = chainId(parentChainId, diffIds[index]);
        yield { image, index, layer, diffId: diffIds[index], chainId: chain, ...(parentChainId === undefined ? {} : { parentChainId }) };
        parentChainId = chain;
      }
    }
  }
}
