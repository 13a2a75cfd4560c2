// Columns aligned for a terminal: text columns padded on the right, numbers
// on the left.
export type Row = string[];

/** `left`: how many leading columns are text, or which columns are. */
export function alignedTable(header: Row, rows: Row[], left: number | readonly number[] = 1): string[] {
  const isLeft = (i: number) => (typeof left === 'number' ? i < left : left.includes(i));
  const all = [header, ...rows];
  // A loop, not Math.max(...column): a listing of 100,000 paths would overflow the call stack.
  const widths = header.map(() => 0);
  for (const row of all) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], (row[i] ?? '').length);
  }
  const format = (row: Row) =>
    row
      .map((cell, i) => (isLeft(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return all.map(format);
}
