// Tearing a test's world down: every step runs even if an earlier one fails,
// mounts under the work dir are undone before and after the steps, and the
// dir is never deleted through a mount (that could reach outside it). The
// first failure is reported.
import * as fs from 'node:fs';
import { mountsUnder, unmountAllUnder } from '../../native-bench/harness/mounts';

export async function tearDown(workDir: string, steps: (() => Promise<void> | void)[]): Promise<void> {
  const failures: unknown[] = [];
  const attempt = async (step: () => Promise<void> | void): Promise<void> => {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  };
  if (workDir !== '') await attempt(() => unmountAllUnder(workDir));
  for (const step of steps) await attempt(step);
  if (workDir !== '') {
    await attempt(async () => {
      await unmountAllUnder(workDir);
      const left = await mountsUnder(workDir);
      if (left.length > 0) throw new Error(`not deleting ${workDir}, still mounted: ${left.join(', ')}`);
      await fs.promises.rm(workDir, { recursive: true, force: true });
    });
  }
  if (failures.length > 0) throw failures[0];
}
