import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignedTable, markdownTable } from './text-table';

test('columns are aligned: text padded on the right, numbers on the left', () => {
  assert.deepEqual(alignedTable(['name', 'bytes'], [['a', '1'], ['longer', '12345']]), ['name    bytes', 'a           1', 'longer  12345']);
});

test('a table of 300,000 rows, as --tree lists a large image, does not overflow the call stack', () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => [`path/${i}`, String(i)]);
  const lines = alignedTable(['path', 'n'], rows);
  assert.equal(lines.length, 300_001);
  assert.equal(lines[300_000], 'path/299999  299999');
});

test('a Markdown table aligns numbers on the right, and escapes a | in a cell', () => {
  assert.deepEqual(markdownTable(['name', 'kind', 'bytes'], [['a|b', 'file', '1']], 2), ['| name | kind | bytes |', '|---|---|---:|', '| a\\|b | file | 1 |']);
});
