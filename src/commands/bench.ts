// `strata bench`: the layer-unpacking benchmark suite (native-bench/),
// options in, a JSON report, tables, an SVG chart and an HTML page out; and
// a run, or a report, compared with another figure by figure.
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Compression } from '../diff/compression';
import { IMAGE_NAMES } from '../../native-bench/inputs/generators';
import { DEFAULT_SNAPSHOTTERS, PRIVATE_SNAPSHOTTERS } from '../../native-bench/containerd-stack';
import type { Report } from '../../native-bench/model';
import { ratioChart } from '../../native-bench/report/chart';
import { headlineMarkdown, markdownTables, textTables } from '../../native-bench/report/table';
import { GROUPS, runSuite, type Progress, type SuiteOptions } from '../../native-bench/suite';
import { readReport } from '../../native-bench/report/read-report';
import { compareReports } from '../../native-bench/report/compare';
import { comparisonFiles } from '../../native-bench/report/compare-tables';
import { baselineOperand, compareOperands } from './bench-compare';
import { htmlReport } from '../../native-bench/report/html';
import { endOfRun } from './bench-end';
import { makeDirectories } from '../make-directories';
import { containerdAddress } from './containerd-address';
import { containerdBinary } from './containerd-binary';
import { systemErrorText } from '../system-error';
import { UsageError } from '../usage-error';
import { checkWritableDir } from '../writable-dir';

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
  containerd?: string;
  containerdAddress?: string;
  snapshotter: string[];
  registry?: string;
  from?: string;
  baseline?: string;
  compare?: string[];
}

const COMPRESSIONS: Compression[] = ['gzip', 'zstd', 'none'];

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: readonly T[]): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((v) => v.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag}: empty (choose from ${allowed.join(', ')}, or all)`);
  if (items.includes('all')) {
    if (items.length > 1) throw new UsageError(`${flag}: all stands alone (it is ${allowed.join(', ')})`);
    return [...allowed];
  }
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`${flag}: unknown ${JSON.stringify(item)} (choose from ${allowed.join(', ')}, or all)`);
  }
  return items as T[];
}

/**
 * --snapshotter, repeated or comma-separated: each name once, in the order
 * given. The bench's own containerd runs those it knows; the user's, any it
 * has, as the run finds out.
 */
function snapshotters(values: string[], usersContainerd: boolean): string[] {
  if (values.length === 0) return [...DEFAULT_SNAPSHOTTERS];
  const names = [...new Set(values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter(Boolean))];
  if (names.length === 0) throw new UsageError(`--snapshotter: empty (choose from ${PRIVATE_SNAPSHOTTERS.join(', ')})`);
  for (const name of names) {
    if (!usersContainerd && !(PRIVATE_SNAPSHOTTERS as readonly string[]).includes(name)) {
      throw new UsageError(`--snapshotter: unknown ${JSON.stringify(name)} (choose from ${PRIVATE_SNAPSHOTTERS.join(', ')}, or any with --containerd-address)`);
    }
  }
  return names;
}

/** HOST[:PORT][/PATH], as image references name a registry and a repository path in it. */
function registry(value: string): string {
  if (!/^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(value)) {
    throw new UsageError(`--registry ${value}: give HOST[:PORT][/PATH], with no scheme (--plain-http for a registry over http)`);
  }
  return value;
}

export function benchOptions(flags: BenchFlags): SuiteOptions {
  const quick = flags.quick === true;
  // Digits only: Number() would also take '1e1', '0x2' and ' 3'.
  if (flags.repetitions !== undefined && !/^[1-9][0-9]*$/.test(flags.repetitions)) {
    throw new UsageError(`--repetitions must be a positive integer, not ${JSON.stringify(flags.repetitions)}`);
  }
  const repetitions = flags.repetitions === undefined ? (quick ? 1 : 3) : Number(flags.repetitions);
  const userOnly = flags.image.length > 0 && flags.images === undefined;
  if (flags.containerd !== undefined && flags.containerdAddress !== undefined) {
    throw new UsageError('--containerd and --containerd-address: one or the other (--containerd starts that containerd, --containerd-address uses one already running)');
  }
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
    containerd: flags.containerd === undefined ? undefined : containerdBinary(flags.containerd),
    containerdAddress: flags.containerdAddress === undefined ? undefined : containerdAddress(flags.containerdAddress),
    snapshotters: snapshotters(flags.snapshotter, flags.containerdAddress !== undefined),
    registry: flags.registry === undefined ? undefined : registry(flags.registry),
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

/** Every file of the report by name, rendered before any is written, so that one that cannot be rendered leaves none. */
async function reportFiles(report: Report): Promise<Map<string, string>> {
  const files = new Map([
    ['bench.json', `${JSON.stringify(report, null, 2)}\n`],
    ['bench.txt', textTables(report)],
    ['bench.md', markdownTables(report)],
    ['headline.md', headlineMarkdown(report)],
  ]);
  const chart = report.ratios.length > 0 ? await ratioChart(report) : undefined;
  if (chart) files.set('bench.svg', chart);
  files.set('bench.html', htmlReport(report, chart));
  return files;
}

/** Writes each file beside its name first and renames them all at the end: an interrupted write leaves no half of one. */
async function writeFiles(dir: string, files: Map<string, string>): Promise<void> {
  const staged = [...files].map(([name, text]) => ({ name, text, temporary: path.join(dir, `.${name}.${process.pid}`) }));
  try {
    for (const file of staged) await fs.promises.writeFile(file.temporary, file.text);
    for (const file of staged) await fs.promises.rename(file.temporary, path.join(dir, file.name));
  } finally {
    for (const file of staged) await fs.promises.rm(file.temporary, { force: true });
  }
}

/** A directory a flag names, made now: a run is long, and should not fail only at its end. */
async function flagDirectory(flag: string, dir: string): Promise<void> {
  try {
    await makeDirectories(dir);
  } catch (err) {
    throw new Error(`${flag} ${dir}: ${systemErrorText(err)}`);
  }
}

/** `given`: the long flags on the command line, not those filled in from a default. */
export async function bench(flags: BenchFlags, given: readonly string[]): Promise<void> {
  // Every flag is checked before anything runs or is written.
  const pair = compareOperands(flags.compare, given);
  const baselineFile = baselineOperand(flags.baseline, given);
  const options = flags.from === undefined && pair === undefined ? benchOptions(flags) : undefined;
  const out = path.resolve(flags.out);
  await checkWritableDir(flags.out, '--out');
  if (options) await checkWritableDir(flags.work, '--work');
  // Read before the run, so that one it cannot compare with fails at once.
  const baseline = baselineFile === undefined ? undefined : { file: baselineFile, report: await readReport(baselineFile, '--baseline') };
  let files: Map<string, string>;
  // The run's report, or the one read back with --from; two compared with --compare make none.
  let report: Report | undefined;
  if (pair) {
    const [a, b] = [await readReport(pair[0], '--compare'), await readReport(pair[1], '--compare')];
    files = comparisonFiles(compareReports(a, b, { old: pair[0], new: pair[1] }));
  } else {
    if (options) {
      await flagDirectory('--work', options.workDir);
      report = await runSuite(options, progressBar());
    } else {
      report = await readReport(flags.from as string);
    }
    files = await reportFiles(report);
    if (baseline) {
      const comparison = compareReports(baseline.report, report, { old: baseline.file, new: path.join(out, 'bench.json') });
      for (const [name, text] of comparisonFiles(comparison)) files.set(name, text);
    }
  }
  // Made only now: a run or a --from that fails leaves no --out behind.
  await flagDirectory('--out', out);
  await writeFiles(out, files);
  const end = await endOfRun(report, out, [...files.keys()], options?.workDir);
  // With --json, stdout holds one JSON document alone: the comparison's, where there is one.
  if (flags.json) {
    process.stdout.write((files.get('compare.json') ?? files.get('bench.json')) as string);
    process.stderr.write(end);
  } else {
    const tables = ['bench.txt', 'compare.txt'].filter((name) => files.has(name)).map((name) => files.get(name));
    process.stdout.write(`${tables.join('\n')}\n${end}`);
  }
}
