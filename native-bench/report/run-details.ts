// What a run was, as every rendering of its report states it: when, how
// long, how many repetitions at what scale, and whether its figures can be
// trusted as they stand or are only indicative.
import type { Report } from '../model';

/** Fewer repetitions than this give no idea of the spread: such figures are indicative. */
export const TRUSTED_REPETITIONS = 3;

export interface RunMode {
  /** Absent from a report that does not say. */
  repetitions?: number;
  /** The generated images' size: 1 is full size; --quick runs below it, and only --quick does. */
  scale: number;
  quick: boolean;
}

export function runMode(report: Report): RunMode {
  const { repetitions, scale } = report.options;
  const full = typeof scale === 'number' ? scale : 1;
  return { repetitions: typeof repetitions === 'number' ? repetitions : undefined, scale: full, quick: full < 1 };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
/** "2 %" for a scale of 0.02. */
export const percent = (scale: number) => `${Number((scale * 100).toPrecision(3))} %`;

/** One line saying the figures are indicative, and what to compare instead; undefined when they are not. */
export function indicativeNote(report: Report): string | undefined {
  const { repetitions, scale, quick } = runMode(report);
  const few = repetitions !== undefined && repetitions < TRUSTED_REPETITIONS ? plural(repetitions, 'repetition') : undefined;
  if (few === undefined && !quick) return undefined;
  const what = few !== undefined && quick ? `${few} (quick mode, ${percent(scale)} scale)` : (few ?? `quick mode (${percent(scale)} scale)`);
  const instead = quick ? `full runs of ${TRUSTED_REPETITIONS} or more repetitions` : `runs of ${TRUSTED_REPETITIONS} or more`;
  return `Indicative: ${what}; compare ${instead}`;
}

/** "2026-12-07 14:38 UTC" from an ISO time. */
export function startedAtText(report: Report): string {
  return `${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
}

export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "2026-12-07 14:38 UTC, 6 min, 3 repetitions, full scale". */
export function runLine(report: Report): string {
  const { repetitions, scale, quick } = runMode(report);
  return [
    startedAtText(report),
    durationText(report.seconds),
    repetitions === undefined ? undefined : plural(repetitions, 'repetition'),
    quick ? `quick mode (${percent(scale)} scale)` : 'full scale',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * The containerd the end-to-end arms ran on and each snapshotter's plugin,
 * one line each ("snapshotter btrfs: ok, root /var/tmp/…"); none for a
 * report without a recorded stack.
 */
export function stackLines(report: Report): string[] {
  if (!report.stack) return [];
  const { containerd, snapshotters } = report.stack;
  return [
    `containerd ${containerd.server} (ctr ${containerd.client})`,
    ...snapshotters.map((s) => `snapshotter ${s.id}: ${[s.status, ...Object.entries(s.exports).map(([key, value]) => `${key} ${value}`)].join(', ')}`),
  ];
}
