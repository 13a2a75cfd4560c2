// `strata inspect`'s report: one platform's image from any image source,
// every layer streamed once, in order, into the merged tree that counts what
// each layer adds, modifies, removes and wastes.
import { invalidArgument, StrataError } from '../errdefs';
import { isLayerFault } from '../diff/layer-format-error';
import { formatPlatform } from '../images/platform';
import { resolveImage } from '../images/resolve';
import type { ImageSource } from '../images/source';
import type { ImageConfig, Platform } from '../images/types';
import { scanLayer, type LayerCounts, type LayerEntry } from './layer-scan';
import { MergedTree, noChanges, type LayerChanges, type TreeEntry } from './merged-tree';

/** How many wasted paths the report names. */
const TOP_WASTED = 10;

/** "4 layers, 0 to 3": the layer numbers an image of `count` layers has. */
export function layerRange(count: number): string {
  if (count === 0) return 'no layers';
  return count === 1 ? 'one layer, 0' : `${count} layers, 0 to ${count - 1}`;
}

/** A layer asked for by number that the image lacks; the command line words it as bad usage, naming its flag. */
export class NoSuchLayer extends StrataError {
  constructor(
    readonly image: string,
    readonly layer: number,
    readonly count: number,
  ) {
    super('OutOfRange', `${image} has no layer ${layer}: it has ${layerRange(count)}`);
  }
}

export interface InspectOptions {
  platform: Platform;
  /** List the entries of these layers, or of every layer. */
  files?: ReadonlySet<number> | 'all';
  /** List the merged filesystem. */
  tree?: boolean;
  progress?: InspectProgress;
}

/** Told how far the read has got, for a progress bar. */
export interface InspectProgress {
  start(totalBytes: number, layers: number): void;
  layer(index: number): void;
  bytes(read: number): void;
  stop(): void;
}

export interface ConfigSummary {
  created?: string;
  os: string;
  architecture: string;
  variant?: string;
  user: string;
  workingDir: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  exposedPorts: string[];
  labels: Record<string, string>;
  history: { created?: string; createdBy: string; comment?: string; emptyLayer: boolean }[];
}

export interface LayerReport extends LayerCounts, LayerChanges {
  index: number;
  digest: string;
  mediaType: string;
  size: number;
  uncompressedSize: number;
  diffId: string;
  configDiffId: string;
  diffIdMatches: boolean;
  wastedBytes: number;
  /** The history entry that made the layer, when the config says. */
  createdBy?: string;
}

export interface FileListing extends LayerEntry {
  layer: number;
}

export interface InspectReport {
  manifest: { digest: string; mediaType: string };
  /** The platforms a multi-platform index offers; the report is of `platform`. */
  platforms?: string[];
  platform: string;
  config: ConfigSummary;
  layers: LayerReport[];
  totalSize: number;
  uncompressedSize: number;
  wastedBytes: number;
  efficiency: number;
  topWasted: { path: string; bytes: number }[];
  /** What does not add up (digests, diff IDs, sizes); the CLI fails when there is any. */
  problems: string[];
  files?: FileListing[];
  tree?: TreeEntry[];
}

function summarise(config: ImageConfig): ConfigSummary {
  const c = config.config ?? {};
  return {
    ...(config.created ? { created: config.created } : {}),
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
    user: c.User ?? '',
    workingDir: c.WorkingDir ?? '',
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    env: c.Env ?? [],
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    labels: c.Labels ?? {},
    history: (config.history ?? []).map((h) => ({
      ...(h.created ? { created: h.created } : {}),
      createdBy: h.created_by ?? '',
      ...(h.comment ? { comment: h.comment } : {}),
      emptyLayer: h.empty_layer === true,
    })),
  };
}

export async function inspectImage(source: ImageSource, options: InspectOptions): Promise<InspectReport> {
  const { index, manifestDescriptor, manifest, config } = await resolveImage(source, options.platform);
  const layerCount = manifest.layers.length;
  const listed = options.files;
  for (const layer of listed === 'all' || !listed ? [] : listed) {
    if (layer < 0 || layer >= layerCount) throw new NoSuchLayer(source.name, layer, layerCount);
  }
  const offered = (index?.manifests ?? []).filter((m) => m.platform).map((m) => formatPlatform(m.platform as Platform));
  const summary = summarise(config);
  const layerHistory = summary.history.filter((h) => !h.emptyLayer);
  const tree = new MergedTree();
  const problems: string[] = [];
  const files: FileListing[] = [];
  const layers: LayerReport[] = [];
  options.progress?.start(
    manifest.layers.reduce((sum, l) => sum + l.size, 0),
    layerCount,
  );
  try {
    for (const [i, descriptor] of manifest.layers.entries()) {
      options.progress?.layer(i);
      const changes = noChanges();
      const listing = listed === 'all' || listed?.has(i) === true;
      const onEntry = (entry: LayerEntry) => {
        if (listing) files.push({ layer: i, ...entry });
        if (entry.whiteout === 'opaque') tree.opaque(entry.path, i, changes);
        else if (entry.whiteout === 'file') tree.whiteout(entry.path, i, changes);
        else tree.write(entry.path, entry, i, changes);
      };
      let scan;
      try {
        scan = await scanLayer(await source.open(descriptor), descriptor.mediaType, onEntry, (n) => options.progress?.bytes(n));
      } catch (err) {
        if (!isLayerFault(err)) throw err;
        throw invalidArgument(`${source.name}: layer ${i} (${descriptor.digest}) is truncated or corrupt: ${(err as Error).message}`);
      }
      const configDiffId = config.rootfs.diff_ids[i];
      if (scan.digest !== descriptor.digest) problems.push(`layer ${i}: the blob's digest is ${scan.digest}, the manifest says ${descriptor.digest}`);
      if (scan.compressedSize !== descriptor.size) problems.push(`layer ${i}: the blob is ${scan.compressedSize} bytes, the manifest says ${descriptor.size}`);
      if (scan.diffId !== configDiffId) problems.push(`layer ${i}: the diff ID is ${scan.diffId}, the config says ${configDiffId}`);
      layers.push({
        index: i,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        uncompressedSize: scan.uncompressedSize,
        diffId: scan.diffId,
        configDiffId,
        diffIdMatches: scan.diffId === configDiffId,
        ...scan.counts,
        ...changes,
        wastedBytes: 0,
        ...(layerHistory[i]?.createdBy ? { createdBy: layerHistory[i].createdBy } : {}),
      });
    }
  } finally {
    options.progress?.stop();
  }
  for (const layer of layers) layer.wastedBytes = tree.wastedByLayer[layer.index] ?? 0;
  return {
    manifest: { digest: manifestDescriptor.digest, mediaType: manifestDescriptor.mediaType },
    ...(offered.length > 1 ? { platforms: offered } : {}),
    platform: formatPlatform({ os: config.os, architecture: config.architecture, variant: config.variant }),
    config: summary,
    layers,
    totalSize: layers.reduce((sum, l) => sum + l.size, 0),
    uncompressedSize: layers.reduce((sum, l) => sum + l.uncompressedSize, 0),
    wastedBytes: layers.reduce((sum, l) => sum + l.wastedBytes, 0),
    efficiency: tree.efficiency(),
    topWasted: tree.topWasted(TOP_WASTED),
    problems,
    ...(options.files !== undefined ? { files } : {}),
    ...(options.tree ? { tree: [...tree.entries()] } : {}),
  };
}
