// Run against run: every figure two reports share, the old and the new, their
// ratio, and whether the change stands out of the noise of the repetitions
// behind them; the figures only one report has; and where the two runs'
// machines and options differ, since then the comparison is of those as much
// as of the code.
import { contentSubject, snapshotSubject, type Machine, type Report } from '../model';
import type { Summary } from '../stats';

/**
 * Fewer samples a side give no verdict. Even so, two runs of the same code
 * on a quiet machine put three samples apart from three one time in ten
 * (all of one run's above all of the other's: 1 in 20, either way round),
 * and five apart from five one time in 126.
 */
export const MIN_SAMPLES = 3;

/**
 * "faster" and "slower" only when both runs have MIN_SAMPLES or more and
 * their ranges, from the least sample to the greatest, do not overlap;
 * "within noise" when they overlap; "indicative" with fewer samples, or none
 * whose spread the report recorded.
 */
export type Verdict = 'faster' | 'slower' | 'within noise' | 'indicative';

/** What a figure is: two reports' figures are matched by all of it. */
export interface FigureId {
  group: string;
  /** The arm, or for snapshot and content scenarios the target. */
  arm: string;
  /** The input image, or the scenario. */
  subject: string;
  compression?: string;
  /** What is measured, and in what unit. */
  figure: string;
}

interface Spread {
  n: number;
  min: number;
  max: number;
}

interface Figure extends FigureId {
  value: number;
  /** Throughput: more is faster. Time: less is. */
  higherIsFaster: boolean;
  /** The repetitions behind the figure, where the report recorded them. */
  spread?: Spread;
}

export interface ComparedFigure extends FigureId {
  old: number;
  new: number;
  /** new / old. */
  ratio: number;
  verdict: Verdict;
  /** How many repetitions each figure is of, where the report recorded their spread. */
  oldSamples?: number;
  newSamples?: number;
}

/** A setting the two runs had apart; undefined where a report did not record it. */
export interface Difference {
  of: 'machine' | 'options';
  name: string;
  old: unknown;
  new: unknown;
}

export interface Comparison {
  /** The report compared against, and the one compared: paths as given, and when each run started. */
  old: { report: string; startedAt: string };
  new: { report: string; startedAt: string };
  differences: Difference[];
  figures: ComparedFigure[];
  /** Figures only the new report has, and only the old one. */
  added: FigureId[];
  removed: FigureId[];
}

/** What a machine is: its host name is not, since the same machine can be renamed and another can share a name. */
const MACHINE: readonly (keyof Machine)[] = ['cpu', 'cores', 'memoryGiB', 'kernel', 'filesystem', 'containerd', 'node', 'go'];

/**
 * Options that pick which figures a run has (those show as added or removed)
 * or where it keeps its files; every other option that differs changes what
 * a figure both runs have means (--quick's scale, repetitions, rounds...).
 * The containerd option is the binary's path: its version is the machine's.
 */
const SELECTING = new Set(['workDir', 'images', 'userImages', 'compressions', 'groups', 'snapshotDepths', 'snapshotClients', 'contentWriters', 'containerd', 'plainHttp']);

function spread(summary: Summary): Spread | undefined {
  // Reports from before max was recorded: nearest rank makes p99 the greatest of fewer than 100 samples.
  const max = summary.max ?? (summary.n < 100 ? summary.p99 : undefined);
  return max !== undefined && Number.isFinite(summary.min) && Number.isFinite(max) ? { n: summary.n, min: summary.min, max } : undefined;
}

function figuresOf(report: Report): Figure[] {
  const figures: Figure[] = report.measurements.map((m) => ({
    group: m.group,
    arm: m.arm,
    subject: m.subject,
    compression: m.compression,
    figure: 'p50 s',
    value: m.seconds.p50,
    higherIsFaster: false,
    spread: spread(m.seconds),
  }));
  for (const s of report.snapshots) {
    const perRepetition = s.roundP50MsPerRepetition && spread(s.roundP50MsPerRepetition);
    figures.push({ group: 'snapshots', arm: s.target, subject: snapshotSubject(s), figure: 'round p50 ms', value: s.round.p50Ms, higherIsFaster: false, spread: perRepetition });
  }
  for (const c of report.content) {
    for (const [figure, summary] of [['write p50 MiB/s', c.writeMiBPerSecond], ['read p50 MiB/s', c.readMiBPerSecond]] as const) {
      figures.push({ group: 'content', arm: c.target, subject: contentSubject(c), figure, value: summary.p50, higherIsFaster: true, spread: spread(summary) });
    }
  }
  // A summary of no samples holds NaN (null in JSON): no figure.
  return figures.filter((f) => Number.isFinite(f.value));
}

const key = (f: FigureId) => JSON.stringify([f.group, f.arm, f.subject, f.compression ?? null, f.figure]);
const idOf = ({ group, arm, subject, compression, figure }: Figure): FigureId => ({ group, arm, subject, compression, figure });

function verdict(old: Figure, now: Figure): Verdict {
  const [a, b] = [old.spread, now.spread];
  if (!a || !b || a.n < MIN_SAMPLES || b.n < MIN_SAMPLES) return 'indicative';
  if (b.min > a.max) return now.higherIsFaster ? 'faster' : 'slower';
  if (b.max < a.min) return now.higherIsFaster ? 'slower' : 'faster';
  return 'within noise';
}

function differences(old: Report, now: Report): Difference[] {
  const found: Difference[] = [];
  for (const name of MACHINE) {
    if (old.machine[name] !== now.machine[name]) found.push({ of: 'machine', name, old: old.machine[name], new: now.machine[name] });
  }
  const options = [...new Set([...Object.keys(old.options), ...Object.keys(now.options)])].filter((name) => !SELECTING.has(name));
  for (const name of options) {
    if (JSON.stringify(old.options[name]) !== JSON.stringify(now.options[name])) found.push({ of: 'options', name, old: old.options[name], new: now.options[name] });
  }
  return found;
}

/** `now` against `old`, figure by figure; `names` says which report each is. */
export function compareReports(old: Report, now: Report, names: { old: string; new: string }): Comparison {
  const before = new Map(figuresOf(old).map((f) => [key(f), f]));
  const after = new Map(figuresOf(now).map((f) => [key(f), f]));
  const figures: ComparedFigure[] = [];
  for (const [k, f] of after) {
    const was = before.get(k);
    if (!was) continue;
    figures.push({ ...idOf(f), old: was.value, new: f.value, ratio: f.value / was.value, verdict: verdict(was, f), oldSamples: was.spread?.n, newSamples: f.spread?.n });
  }
  return {
    old: { report: names.old, startedAt: old.startedAt },
    new: { report: names.new, startedAt: now.startedAt },
    differences: differences(old, now),
    figures,
    added: [...after].filter(([k]) => !before.has(k)).map(([, f]) => idOf(f)),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, f]) => idOf(f)),
  };
}
