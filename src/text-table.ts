// Tables of text cells: columns aligned for a terminal (text columns padded
// on the right, numbers on the left), or written as Markdown.
export type Row = string[];

/** `left`: how many leading columns are text, or which columns are. */
type LeftColumns = number | readonly number[];

const leftAligned = (left: LeftColumns) => (i: number) => (typeof left === 'number' ? i < left : left.includes(i));

export function alignedTable(header: Row, rows: Row[], left: LeftColumns = 1): string[] {
  const isLeft = leftAligned(left);
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

/** The same table in Markdown, numbers right-aligned; a | in a cell is escaped, so it cannot split the row. */
export function markdownTable(header: Row, rows: Row[], left: LeftColumns = 1): string[] {
  const isLeft = leftAligned(left);
  const line = (row: Row) => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (isLeft(i) ? '---' : '---:')).join('|')}|`, ...rows.map(line)];
}
