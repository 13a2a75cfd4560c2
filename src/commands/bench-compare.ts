// Which reports `strata bench --compare A.json B.json` and `--baseline
// OLD.json` compare, checked with the other flags before anything is read,
// run or written.
import { UsageError } from '../usage-error';

/** What --compare takes besides its reports: it runs nothing, so no run option means anything with it. */
const WITH_COMPARE = new Set(['--compare', '--out', '--json']);

/**
 * The two reports --compare names, B to be compared against A; undefined
 * without --compare. `given`: the long flags on the command line, not those
 * filled in from a default.
 */
export function compareOperands(compare: string[] | undefined, given: readonly string[]): [string, string] | undefined {
  if (compare === undefined) return undefined;
  const other = given.find((flag) => !WITH_COMPARE.has(flag));
  if (other !== undefined) throw new UsageError(`--compare runs nothing, so it takes only --out and --json, not ${other}`);
  if (compare.length !== 2) throw new UsageError(`--compare takes two reports, A.json then B.json, not ${compare.length}`);
  return [compare[0], compare[1]];
}

/** The report --baseline names, for a run to be compared against; --from runs nothing. */
export function baselineOperand(baseline: string | undefined, given: readonly string[]): string | undefined {
  if (baseline !== undefined && given.includes('--from')) throw new UsageError('--baseline compares a run with an earlier report, and --from runs nothing (for two reports: --compare A.json B.json)');
  return baseline;
}
