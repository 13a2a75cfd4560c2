// The report as tables: aligned text for a terminal, Markdown for a README.
import { ARM } from '../arm-names';
import type { Phase, Report, SummarisedMeasurement } from '../model';
import { PHASES } from '../model';
import { alignedTable, markdownTable, type Row } from '../../src/text-table';
import { indicativeNote, stackLines } from './run-details';

export interface Section {
  title: string;
  header: Row;
  rows: Row[];
}

const fixed = (value: number | undefined, digits = 2) => (value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits));
const integer = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '' : Math.round(value).toLocaleString('en-US'));
const mib = (bytes: number | undefined) => (bytes === undefined ? '' : `${Math.round(bytes / 2 ** 20)} MiB`);
/** One sample has no spread: a dash, not a standard deviation of 0. */
const spread = (m: SummarisedMeasurement) => (m.seconds.n < 2 ? '–' : fixed(m.seconds.stddev));

/** A ratio in two decimals, or one significant digit where two decimals would round it to 0.00. */
export function ratioText(ratio: number): string {
  return Number.isFinite(ratio) && ratio > 0 && ratio < 0.005 ? ratio.toPrecision(1) : fixed(ratio);
}

export function machineLine(report: Report): string {
  const m = report.machine;
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, ${m.filesystem}; node ${m.node}, containerd ${m.containerd}, go ${m.go}`;
}

function measurementRows(measurements: SummarisedMeasurement[], phases: boolean): Row[] {
  const rows: Row[] = [];
  const subjects = [...new Set(measurements.map((m) => `${m.subject} ${m.compression ?? ''}`.trim()))];
  for (const subject of subjects) {
    for (const m of measurements.filter((x) => `${x.subject} ${x.compression ?? ''}`.trim() === subject)) {
      const row = [subject, m.arm, fixed(m.seconds.p50), spread(m), fixed(m.mbPerSecond, 1), integer(m.filesPerSecond), mib(m.peakRssBytes)];
      if (phases) row.push(...PHASES.map((p: Phase) => fixed(m.phases[p])));
      row.push(fixed(m.ioStallSeconds));
      rows.push(row);
    }
  }
  return rows;
}

export function sections(report: Report): Section[] {
  const out: Section[] = [];
  const base = ['image', 'arm', 'p50 s', 'stddev', 'MB/s', 'files/s', 'peak RSS'];
  const unpack = report.measurements.filter((m) => m.group === 'unpack');
  // Reports from before the machine's I/O stalls were read have none.
  const stall = report.measurements.some((m) => m.ioStallSeconds !== undefined) ? ['I/O stall s'] : [];
  const withStall = (row: Row, kept: number) => [...row.slice(0, kept), ...row.slice(row.length - stall.length)];
  if (unpack.length) out.push({ title: 'Unpack', header: [...base, ...PHASES, ...stall], rows: measurementRows(unpack, true).map((r) => withStall(r, base.length + PHASES.length)) });
  const containerd = report.measurements.filter((m) => m.group === 'containerd');
  if (containerd.length) out.push({ title: `containerd ${report.machine.containerd} end to end`, header: [...base.slice(0, 5), ...stall], rows: measurementRows(containerd, false).map((r) => withStall(r, 5)) });
  const decompress = report.measurements.filter((m) => m.group === 'decompress');
  if (decompress.length) out.push({ title: 'Decompression and parsing alone', header: base.slice(0, 6), rows: measurementRows(decompress, false).map((r) => r.slice(0, 6)) });
  if (report.snapshots.length) {
    out.push({
      title: 'Snapshot operations (ms: p50 / p90 / p99; ops/s)',
      header: ['target', 'depth', 'clients', 'round p50', 'round p90', 'round p99', 'rounds/s', ...Object.keys(report.snapshots[0].operations).map((op) => `${op} p50`)],
      rows: report.snapshots.map((s) => [
        s.target,
        String(s.depth),
        String(s.clients),
        fixed(s.round.p50Ms),
        fixed(s.round.p90Ms),
        fixed(s.round.p99Ms),
        fixed(s.round.opsPerSecond, 1),
        ...Object.values(s.operations).map((o) => fixed(o.p50Ms)),
      ]),
    });
  }
  if (report.content.length) {
    out.push({
      title: 'Content through gRPC (MiB/s, p50)',
      header: ['target', 'writers', 'blob MiB', 'write', 'read'],
      rows: report.content.map((c) => [c.target, String(c.writers), String(c.blobMiB), fixed(c.writeMiBPerSecond.p50, 0), fixed(c.readMiBPerSecond.p50, 0)]),
    });
  }
  if (report.ratios.length) {
    out.push({
      title: 'Ratios: time of the first over the second (below 1: the first is faster)',
      header: ['comparison', 'subject', 'ratio'],
      rows: report.ratios.map((r) => [r.kind, r.subject, ratioText(r.ratio)]),
    });
  }
  return out;
}

export function textTables(report: Report): string {
  const note = indicativeNote(report);
  const lines = [`strata bench, ${report.startedAt}: ${machineLine(report)}`, ...stackLines(report), ...(note ? [note] : [])];
  for (const section of sections(report)) {
    lines.push('', section.title, ...alignedTable(section.header, section.rows, 2));
  }
  return `${lines.join('\n')}\n`;
}

/** The indicative note, as a paragraph of Markdown after the first line; none when the figures stand. */
function markdownNote(report: Report): string[] {
  const note = indicativeNote(report);
  return note ? ['', `**${note}.**`] : [];
}

export function markdownTables(report: Report): string {
  const stack = stackLines(report);
  const lines = [`Measured ${report.startedAt.slice(0, 10)} on ${machineLine(report)}.`, ...(stack.length > 0 ? ['', ...stack.map((line) => `- ${line}`)] : []), ...markdownNote(report)];
  for (const section of sections(report)) {
    lines.push('', `**${section.title}**`, '', ...markdownTable(section.header, section.rows, 2));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The figures a README shows: per input, the apply time of each side and
 * the limit, and containerd's import into each store; then the other ratios.
 */
export function headlineMarkdown(report: Report): string {
  const p50 = (arm: string, subject: string, compression: string | undefined) =>
    report.measurements.find((m) => m.arm === arm && m.subject === subject && m.compression === compression)?.seconds.p50;
  const inputs = [...new Map(report.measurements.filter((m) => m.group === 'unpack').map((m) => [`${m.subject} ${m.compression}`, m])).values()];
  const lines = [
    `Measured ${report.startedAt.slice(0, 10)} on ${machineLine(report)}; p50 of ${String(report.options.repetitions)} interleaved repetitions, in seconds.`,
    ...markdownNote(report),
    '',
    '| image | strata overlayfs | containerd Go overlay | strata native | containerd Go native | tar -x | ctr import overlayfs | ctr import strata |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of inputs) {
    const cell = (arm: string) => fixed(p50(arm, m.subject, m.compression));
    lines.push(
      `| ${m.subject} ${m.compression} | ${cell('strata overlayfs')} | ${cell('containerd Go overlay')} | ${cell('strata native')} | ${cell('containerd Go native')} | ${cell('tar -x (limit)')} | ${cell(ARM.ctrImport('overlayfs', true))} | ${cell(ARM.ctrImport('strata', true))} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
