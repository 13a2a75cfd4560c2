// What a run found, in a few lines for the end of it: how many comparisons,
// which way each kind of comparison went, and the largest wins and losses.
// Kinds come from the report, in its order; none is known here.
import type { Ratio, Report } from '../model';
import { alignedTable } from '../../src/text-table';
import { ratioText } from './table';

/** How many of the largest wins, and of the largest losses, are named. */
const LARGEST = 3;

const range = (ratios: Ratio[]) => {
  const values = ratios.map((r) => r.ratio);
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? ratioText(low) : `${ratioText(low)}–${ratioText(high)}`;
};

/** "faster", "slower", or "faster in 3 of 5" for a kind that went both ways. */
function verdict(ratios: Ratio[]): string {
  const faster = ratios.filter((r) => r.ratio < 1).length;
  if (faster === ratios.length) return 'faster';
  if (ratios.every((r) => r.ratio > 1)) return 'slower';
  return `faster in ${faster} of ${ratios.length}`;
}

const named = (ratios: Ratio[]) => ratios.map((r) => `${ratioText(r.ratio)} ${r.kind} (${r.subject})`).join('; ');

export function ratioSummary(report: Report): string {
  // A ratio the report could not work out (null in its JSON) says nothing either way.
  const ratios = report.ratios.filter((r) => Number.isFinite(r.ratio));
  if (ratios.length === 0) return 'No comparisons: the groups that ran compare nothing.\n';
  const faster = ratios.filter((r) => r.ratio < 1);
  const slower = ratios.filter((r) => r.ratio > 1);
  const even = ratios.length - faster.length - slower.length;
  const lines = [
    `${ratios.length} comparison${ratios.length === 1 ? '' : 's'} of the first's time over the second's: the first is faster in ${faster.length}, slower in ${slower.length}${even > 0 ? `, even in ${even}` : ''}.`,
  ];
  const kinds = [...new Set(ratios.map((r) => r.kind))];
  const rows = kinds.map((kind) => {
    const of = ratios.filter((r) => r.kind === kind);
    return [verdict(of), range(of), kind];
  });
  lines.push(...alignedTable(['', 'ratio', 'comparison'], rows, [0, 2]).slice(1).map((line) => `  ${line}`));
  if (faster.length > 0) lines.push(`Largest wins: ${named([...faster].sort((a, b) => a.ratio - b.ratio).slice(0, LARGEST))}`);
  if (slower.length > 0) lines.push(`Largest losses: ${named([...slower].sort((a, b) => b.ratio - a.ratio).slice(0, LARGEST))}`);
  return `${lines.join('\n')}\n`;
}
