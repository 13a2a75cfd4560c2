// `strata bench`: the layer-unpacking benchmark suite (native-bench/),
// options in, a JSON report, tables and an SVG chart out.
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Compression } from '../diff/compression';
import { IMAGE_NAMES } from '../../native-bench/inputs/generators';
import type { Report } from '../../native-bench/model';
import { ratioChart } from '../../native-bench/report/chart';
import { headlineMarkdown, markdownTables, textTables } from '../../native-bench/report/table';
import { GROUPS, runSuite, type Progress, type SuiteOptions } from '../../native-bench/suite';
import { UsageError } from '../usage-error';

export interface BenchFlags {
  quick?: boolean;
  json?: boolean;
  out: string;
  work: string;
  repetitions?: string;
  images?: string;
  image: string[];
  compressions?: string;
  groups?: string;
  dropCaches?: boolean;
  plainHttp?: boolean;
  from?: string;
}

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: readonly T[]): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (items.length === 1 && items[0] === 'all') return [...allowed];
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`${flag}: unknown ${JSON.stringify(item)} (choose from ${allowed.join(', ')}, or all)`);
  }
  return items as T[];
}

export function benchOptions(flags: BenchFlags): SuiteOptions {
  const quick = flags.quick === true;
  const repetitions = flags.repetitions === undefined ? (quick ? 1 : 3) : Number(flags.repetitions);
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new UsageError(`--repetitions must be a positive integer, not ${flags.repetitions}`);
  const userOnly = flags.image.length > 0 && flags.images === undefined;
  return {
    workDir: path.resolve(flags.work),
    repetitions,
    images: userOnly ? [] : list(flags.images, IMAGE_NAMES, '--images', quick ? ['node-modules', 'whiteouts'] : IMAGE_NAMES),
    scale: quick ? 0.02 : 1,
    compressions: list(flags.compressions, COMPRESSIONS, '--compressions', quick ? ['gzip', 'zstd'] : COMPRESSIONS),
    userImages: flags.image,
    plainHttp: flags.plainHttp === true,
    groups: list(flags.groups, GROUPS, '--groups', GROUPS),
    dropCaches: flags.dropCaches === true,
    snapshotDepths: quick ? [1, 16] : [1, 16, 128],
    snapshotClients: [1, 8],
    snapshotRounds: quick ? 24 : 200,
    contentWriters: [1, 4],
    contentMiB: quick ? 8 : 128,
  };
}

/** A bar on a terminal; nothing otherwise, so logs and --json stay clean. */
function progressBar(): Progress {
  if (!process.stderr.isTTY) return { start: () => undefined, step: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'strata bench [{bar}] {value}/{total} {task}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total) {
      bar.start(total, 0, { task: '' });
      started = true;
    },
    step(task) {
      bar.increment(1, { task });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

async function readReport(file: string): Promise<Report> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as Report;
  } catch (err) {
    throw new Error(`--from ${file}: ${(err as Error).message}`);
  }
}

export async function bench(flags: BenchFlags): Promise<Report> {
  let report: Report;
  if (flags.from) {
    report = await readReport(flags.from);
  } else {
    const options = benchOptions(flags);
    await fs.promises.mkdir(options.workDir, { recursive: true });
    report = await runSuite(options, progressBar());
  }
  const out = path.resolve(flags.out);
  await fs.promises.mkdir(out, { recursive: true });
  await fs.promises.writeFile(path.join(out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  await fs.promises.writeFile(path.join(out, 'bench.txt'), textTables(report));
  await fs.promises.writeFile(path.join(out, 'bench.md'), markdownTables(report));
  await fs.promises.writeFile(path.join(out, 'headline.md'), headlineMarkdown(report));
  if (report.ratios.length > 0) await fs.promises.writeFile(path.join(out, 'bench.svg'), await ratioChart(report));
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : textTables(report));
  return report;
}
