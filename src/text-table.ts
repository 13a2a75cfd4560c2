// Columns aligned for a terminal: text columns padded on the right, numbers
// on the left.
export type Row = string[];

/** `left`: how many leading columns are text, or which columns are. */
export function alignedTable(header: Row, rows: Row[], left: number | readonly number[] = 1): string[] {
  const isLeft = (i: number) => (typeof left === 'number' ? i < left : left.includes(i));
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const format = (row: Row) =>
    row
      .map((cell, i) => (isLeft(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return all.map(format);
}
