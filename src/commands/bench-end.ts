// What `strata bench` says once its report is written: what the figures
// show and what they are worth, then where every file is, by full path,
// and what the run left in its work directory.
import fs from 'node:fs';
import path from 'node:path';
import type { Report } from '../../native-bench/model';
import { ratioSummary } from '../../native-bench/report/ratio-summary';
import { indicativeNote } from '../../native-bench/report/run-details';

/**
 * `report` is the run's, or the one read back with --from; two reports
 * compared with --compare have no one report to sum up. `workDir` is the
 * directory the run worked in; nothing ran for --from or --compare.
 */
export async function endOfRun(report: Report | undefined, out: string, names: readonly string[], workDir: string | undefined): Promise<string> {
  const note = report && indicativeNote(report);
  const summary = report ? [ratioSummary(report).trimEnd(), ...(note ? [`${note}.`] : []), ''] : [];
  const lines = [...summary, 'Written:', ...names.map((name) => `  ${path.join(out, name)}`)];
  if (workDir !== undefined) {
    const kept = (await fs.promises.readdir(workDir).catch(() => [])).sort();
    lines.push(
      `Work directory: ${workDir}${kept.length > 0 ? ` (kept: ${kept.join(', ')})` : ''}`,
      '  the next run reuses its generated inputs and Go builds; delete it to free the space',
    );
  }
  return `${lines.join('\n')}\n`;
}
