// `strata inspect`: what is inside an image, from wherever it lives.
import cliProgress from 'cli-progress';
import { filesize } from 'filesize';
import { openImageSource, type OpenOptions } from '../images/open-source';
import { hostPlatform, parsePlatform } from '../images/platform';
import { syscalls } from '../native/syscalls';
import type { ImageSource } from '../images/source';
import type { Platform } from '../images/types';
import { inspectImage, layerRange, NoSuchLayer, type InspectOptions, type InspectProgress, type InspectReport } from '../inspect/inspect-image';
import { comparePaths, type PathDifference } from '../inspect/path-diff';
import { differenceText, imageText } from '../inspect/report-text';
import { UsageError } from '../usage-error';
import { diffOperands, layerNumber } from './inspect-operands';

export interface InspectFlags {
  json?: boolean;
  platform?: string;
  address?: string;
  containerdAddress?: string;
  namespace?: string;
  plainHttp?: boolean;
  files?: boolean;
  layer?: string;
  tree?: boolean;
  diff?: string[];
}

/** A bar on a terminal, with the bytes read and the layer being read; nothing otherwise. */
function progressBar(): InspectProgress | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'strata inspect [{bar}] {read} of {size}, layer {layer}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const human = (bytes: number) => filesize(bytes, { base: 2, standard: 'iec', round: 1 }) as string;
  let read = 0;
  let total = 0;
  let layers = 0;
  let layer = 0;
  const payload = () => ({ read: human(read), size: human(total), layer: `${layer + 1}/${layers}` });
  return {
    start(totalBytes, count) {
      total = totalBytes;
      layers = count;
      bar.start(Math.max(totalBytes, 1), 0, payload());
    },
    layer(index) {
      layer = index;
      bar.update(read, payload());
    },
    bytes(n) {
      read += n;
      bar.update(read, payload());
    },
    stop() {
      bar.stop();
    },
  };
}

async function withSource<T>(reference: string, open: OpenOptions, fn: (source: ImageSource) => Promise<T>): Promise<T> {
  const source = await openImageSource(reference, open);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

/** Inspects `reference` listing `options.files`, whose numbers came from `flag`: a layer the image lacks is bad usage. */
async function inspectLayers(reference: string, open: OpenOptions, options: InspectOptions, flag: string): Promise<InspectReport> {
  try {
    return await withSource(reference, open, (source) => inspectImage(source, options));
  } catch (err) {
    if (err instanceof NoSuchLayer) throw new UsageError(`${flag} ${err.layer}: ${err.image} has ${layerRange(err.count)}`);
    throw err;
  }
}

/** The text is rendered only when it is printed: with --json it is not needed. */
function print(flags: InspectFlags, json: unknown, text: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(json, null, 2)}\n` : text());
}

/** Fails, after the report is out, when the image does not add up. */
function failOnProblems(reports: InspectReport[]): void {
  const problems = reports.flatMap((r) => r.problems);
  if (problems.length) throw new Error(`${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
}

/** Free memory glibc may keep (a stream's freed 128 KiB buffers) before it gives it back. */
const MALLOC_KEEP_BYTES = 1 << 20;

export async function inspect(image: string | undefined, flags: InspectFlags): Promise<void> {
  // Streaming a multi-GB image churns through pieces; by default glibc kept
  // about 10 MB of them per arena, and inspect's peak RSS went over 150 MB.
  syscalls.trimMallocAbove(MALLOC_KEEP_BYTES);
  let platform: Platform;
  try {
    platform = flags.platform ? parsePlatform(flags.platform) : hostPlatform();
  } catch (err) {
    throw new UsageError(`--platform: ${(err as Error).message}`);
  }
  const open: OpenOptions = {
    plainHttp: flags.plainHttp === true,
    strataAddress: flags.address,
    containerdAddress: flags.containerdAddress,
    namespace: flags.namespace,
  };
  const base: InspectOptions = { platform, progress: progressBar() };
  if (flags.layer !== undefined && !flags.files) throw new UsageError('--layer goes with --files');

  if (flags.diff) {
    const operands = diffOperands(flags.diff, image);
    const { a, b } = operands;
    let differences: PathDifference[];
    let reports: InspectReport[];
    if (operands.kind === 'layers') {
      const { layers } = operands;
      const report = await inspectLayers(operands.image, open, { ...base, files: new Set(layers) }, '--diff');
      const of = (layer: number) => (report.files ?? []).filter((f) => f.layer === layer);
      differences = comparePaths(of(layers[0]), of(layers[1]));
      reports = [report];
    } else {
      reports = [];
      for (const reference of [a, b]) reports.push(await withSource(reference, open, (source) => inspectImage(source, { ...base, tree: true })));
      differences = comparePaths(reports[0].tree ?? [], reports[1].tree ?? []);
    }
    print(flags, { a, b, differences }, () => differenceText(a, b, differences));
    failOnProblems(reports);
    return;
  }

  if (!image) throw new UsageError('an IMAGE to inspect is required (oci-archive:FILE, oci:DIR, docker://HOST/REPO:TAG, strata:REF, or a path)');
  const files = flags.files ? (flags.layer !== undefined ? new Set([layerNumber(flags.layer, '--layer')]) : 'all') : undefined;
  const report = await inspectLayers(image, open, { ...base, files, tree: flags.tree === true }, '--layer');
  print(flags, report, () => imageText(report));
  failOnProblems([report]);
}
