// An earlier report, read back for `strata bench --from`, `--compare` and
// `--baseline`: checked against every field the tables, the chart and the
// comparison read before anything is rendered, so that a file that is not a
// strata bench report, or one in another format, fails with one line naming
// what is wrong, not a TypeError from a renderer.
import fs from 'node:fs';
import { UsageError } from '../../src/usage-error';
import { REPORT_FORMAT, type Report } from '../model';

/** What is wrong with the value at `at`, or undefined. */
type Check = (value: unknown, at: string) => string | undefined;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A check of one kind of value; an absent one is named as missing. */
const typed = (ok: (value: unknown) => boolean, what: string): Check => (value, at) =>
  ok(value) ? undefined : `${at} is ${value === undefined ? 'missing' : `not ${what}`}`;

const string = typed((value) => typeof value === 'string', 'a string');
// A summary of no samples holds NaN, which JSON writes as null; the tables leave such a cell empty.
const figure = typed((value) => typeof value === 'number' || value === null, 'a number');
const optional = (check: Check): Check => (value, at) => (value === undefined ? undefined : check(value, at));

function object(fields: Record<string, Check>): Check {
  const shape = typed(isObject, 'an object');
  return (value, at) => shape(value, at) ?? Object.entries(fields).map(([name, check]) => check((value as Record<string, unknown>)[name], `${at}.${name}`)).find(Boolean);
}

function arrayOf(check: Check): Check {
  const shape = typed(Array.isArray, 'an array');
  return (value, at) => shape(value, at) ?? (value as unknown[]).map((item, i) => check(item, `${at}[${i}]`)).find(Boolean);
}

function recordOf(check: Check): Check {
  const shape = typed(isObject, 'an object');
  return (value, at) => shape(value, at) ?? Object.entries(value as Record<string, unknown>).map(([key, item]) => check(item, `${at}.${key}`)).find(Boolean);
}

const summary = object({ n: figure, mean: figure, stddev: figure, p50: figure, p90: figure, p99: figure, min: figure, max: optional(figure) });
const operation = object({ p50Ms: figure, p90Ms: figure, p99Ms: figure, opsPerSecond: figure });

const REPORT = object({
  startedAt: string,
  seconds: figure,
  machine: object({ host: string, cpu: string, cores: figure, memoryGiB: figure, kernel: string, filesystem: string, node: string, containerd: string, go: string }),
  options: object({}),
  measurements: arrayOf(
    object({
      group: string,
      arm: string,
      subject: string,
      compression: optional(string),
      seconds: summary,
      phases: recordOf(figure),
      peakRssBytes: optional(figure),
      ioStallSeconds: optional(figure),
      layersUnpackedEarly: optional(figure),
      mbPerSecond: optional(figure),
      filesPerSecond: optional(figure),
    }),
  ),
  snapshots: arrayOf(object({ target: string, depth: figure, clients: figure, operations: recordOf(operation), round: operation, roundP50MsPerRepetition: optional(summary) })),
  content: arrayOf(object({ target: string, writers: figure, blobMiB: figure, writeMiBPerSecond: summary, readMiBPerSecond: summary })),
  ratios: arrayOf(object({ kind: string, subject: string, ratio: figure })),
  stack: optional(
    object({
      containerd: object({ client: string, server: string }),
      snapshotters: arrayOf(object({ id: string, status: string, exports: recordOf(string), error: optional(string) })),
    }),
  ),
});

/**
 * The report in `file`, named by `flag` in errors. A path that cannot be read
 * is bad usage (exit 2), as for --config; a file that holds no report strata
 * bench can render is a failure (exit 1).
 */
export async function readReport(file: string, flag = '--from'): Promise<Report> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a report' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`${flag} ${file}: ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${flag} ${file}: not JSON (${(err as Error).message.replace(/\s+/g, ' ')}); give the bench.json of an earlier strata bench`);
  }
  if (!isObject(value)) throw new Error(`${flag} ${file}: not a strata bench report (not a JSON object)`);
  const format = value.format ?? REPORT_FORMAT;
  if (format !== REPORT_FORMAT) {
    throw new Error(`${flag} ${file}: a report in format ${JSON.stringify(format)}, from another version of strata; this strata bench reads format ${REPORT_FORMAT} (run it again to get one)`);
  }
  const problem = REPORT(value, 'report');
  if (problem) throw new Error(`${flag} ${file}: not a strata bench report (${problem})`);
  return namedBySnapshotter({ ...value, format } as Report);
}

/**
 * A report from before --snapshotter (it records no stack) calls
 * containerd's built-in overlayfs "built-in" in its containerd arms and
 * ratios; read back, it says "overlayfs", as a run does now, so that its
 * figures render and compare with a later run's.
 */
function namedBySnapshotter(report: Report): Report {
  if (report.stack) return report;
  const renamed = (text: string) => text.replace(/\bbuilt-in\b/g, 'overlayfs');
  return {
    ...report,
    measurements: report.measurements.map((m) => (m.group === 'containerd' ? { ...m, arm: renamed(m.arm) } : m)),
    ratios: report.ratios.map((r) => ({ ...r, kind: renamed(r.kind) })),
  };
}
