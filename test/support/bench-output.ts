// What `strata bench` prints once its files are written (src/commands/bench-end.ts),
// as the tests that run it expect it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { literal } from './strata-cli';

export interface EndOfRun {
  /** The work directory of a run; none for --from and --compare, which run nothing. */
  work?: string;
  /** Whether there was one report to sum up: not for --compare. */
  summary?: boolean;
}

/**
 * A summary of the report's ratios, then every file in `out` by its full
 * path, then the work directory and what is kept there.
 */
export function assertEndOfRun(text: string, out: string, { work, summary = true }: EndOfRun = {}): void {
  const lines = text.trimEnd().split('\n');
  const written = lines.indexOf('Written:');
  assert.ok(written >= 0, `no list of the files written:\n${text}`);
  if (summary) assert.match(lines[0], /^(\d+ comparisons? of the first's time over the second's: the first is faster in \d+, slower in \d+(, even in \d+)?\.|No comparisons: .*)$/, text);
  else assert.equal(written, 0, text);
  const paths = lines.slice(written + 1).filter((line) => line.startsWith('  /')).map((line) => line.trim());
  assert.deepEqual([...paths].sort(), fs.readdirSync(out).sort().map((name) => path.join(out, name)), text);
  const workLine = lines.find((line) => line.startsWith('Work directory: '));
  if (work === undefined) assert.equal(workLine, undefined, text);
  else assert.match(workLine ?? '', new RegExp(`^Work directory: ${literal(work)} \\(kept: [^)]+\\)$`), text);
}
