// `strata bench --containerd BIN`: a containerd binary with its ctr beside
// it, as a build from containerd's repository leaves them (bin/containerd,
// bin/ctr). Checked when the flags are, so that a wrong path is bad usage at
// once, not a failure minutes into a run.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../usage-error';

/** What keeps `file` from being run, or undefined. */
function notRunnable(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return 'no such file';
  }
  if (stat.isDirectory()) return 'a directory, not a program';
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return 'not executable';
  }
  return undefined;
}

/** The absolute path of the containerd to run; bad usage when it or its ctr cannot be run. */
export function containerdBinary(flag: string): string {
  const binary = path.resolve(flag);
  const wrong = notRunnable(binary);
  if (wrong) throw new UsageError(`--containerd ${flag}: ${wrong}`);
  const ctr = path.join(path.dirname(binary), 'ctr');
  const ctrWrong = notRunnable(ctr);
  if (ctrWrong) throw new UsageError(`--containerd ${flag}: ctr beside it (${ctr}): ${ctrWrong}`);
  return binary;
}
