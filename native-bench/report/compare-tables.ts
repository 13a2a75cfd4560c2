// A comparison of two runs as files: JSON, aligned text for a terminal and
// Markdown, with the same lines and tables in the text and the Markdown.
import { alignedTable, markdownTable, type Row } from '../../src/text-table';
import { MIN_SAMPLES, type Comparison, type Difference, type FigureId, type Verdict } from './compare';

interface Section {
  title: string;
  header: Row;
  rows: Row[];
  /** Which columns are text. */
  left: number[];
}

/** Three significant digits, whole numbers from 100 up: at --quick's scale an apply takes hundredths of a second. */
const figure = (value: number) => (!Number.isFinite(value) ? '' : Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3));

/** A setting as one line: a filesystem can be recorded with a line break in it. */
const setting = (value: unknown) => (value === undefined ? 'not recorded' : typeof value === 'string' ? value.replace(/\s+/g, ' ') : JSON.stringify(value));

const differenceLine = (d: Difference) => `${d.of === 'machine' ? 'The machines differ' : 'The options differ'} in ${d.name}: ${setting(d.old)}, then ${setting(d.new)}`;

const subject = (f: FigureId) => `${f.subject} ${f.compression ?? ''}`.trim();

const VERDICTS: readonly Verdict[] = ['faster', 'slower', 'within noise', 'indicative'];

/** What comes before the tables: which runs, how they differ, the rule, and the count of each verdict. */
function preamble(c: Comparison): string[] {
  const lines = [`strata bench: ${c.new.report} (${c.new.startedAt}) against ${c.old.report} (${c.old.startedAt})`, ...c.differences.map(differenceLine)];
  if (c.differences.length > 0) lines.push('So these figures compare machines or settings, not only code.');
  const counts = VERDICTS.map((v) => `${c.figures.filter((f) => f.verdict === v).length} ${v}`).join(', ');
  lines.push(
    '',
    `A figure is faster or slower only when both runs have ${MIN_SAMPLES} or more samples of it and their ranges (least to greatest) do not overlap; with fewer it is indicative.`,
    `${c.figures.length} figures in both: ${counts}; ${c.added.length} only in the new run, ${c.removed.length} only in the old.`,
  );
  return lines;
}

function sections(c: Comparison): Section[] {
  const samples = (n: number | undefined) => (n === undefined ? '-' : String(n));
  const out: Section[] = [];
  if (c.figures.length > 0) {
    out.push({
      title: 'Figure by figure (new/old: below 1 is less time, or for MiB/s less throughput)',
      header: ['group', 'subject', 'arm', 'figure', 'old', 'new', 'new/old', 'samples', 'verdict'],
      rows: c.figures.map((f) => [f.group, subject(f), f.arm, f.figure, figure(f.old), figure(f.new), figure(f.ratio), `${samples(f.oldSamples)}/${samples(f.newSamples)}`, f.verdict]),
      left: [0, 1, 2, 3, 8],
    });
  }
  const listed = (title: string, ids: FigureId[]) => {
    if (ids.length > 0) out.push({ title, header: ['group', 'subject', 'arm', 'figure'], rows: ids.map((f) => [f.group, subject(f), f.arm, f.figure]), left: [0, 1, 2, 3] });
  };
  listed(`Only in the new run (added): ${c.new.report}`, c.added);
  listed(`Only in the old run (removed): ${c.old.report}`, c.removed);
  return out;
}

export function comparisonText(c: Comparison): string {
  const lines = preamble(c);
  for (const section of sections(c)) lines.push('', section.title, ...alignedTable(section.header, section.rows, section.left));
  return `${lines.join('\n')}\n`;
}

export function comparisonMarkdown(c: Comparison): string {
  // Each line a paragraph of its own: Markdown joins lines not separated by a blank one.
  const lines = [preamble(c).filter(Boolean).join('\n\n')];
  for (const section of sections(c)) lines.push('', `**${section.title}**`, '', ...markdownTable(section.header, section.rows, section.left));
  return `${lines.join('\n')}\n`;
}

/** The files a comparison is written as, by name. */
export function comparisonFiles(c: Comparison): Map<string, string> {
  return new Map([
    ['compare.json', `${JSON.stringify(c, null, 2)}\n`],
    ['compare.txt', comparisonText(c)],
    ['compare.md', comparisonMarkdown(c)],
  ]);
}
