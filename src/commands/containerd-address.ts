// `strata bench --containerd-address SOCK`: a containerd already running,
// used instead of starting one. Checked when the flags are, so that a path
// that is not a socket is bad usage at once; a socket that does not answer
// as containerd fails when the run first asks it (exit 1).
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../usage-error';

/** The socket's absolute path; bad usage when it is missing or not a socket. */
export function containerdAddress(flag: string): string {
  const address = path.resolve(flag);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(address);
  } catch {
    throw new UsageError(`--containerd-address ${flag}: no such file`);
  }
  if (!stat.isSocket()) throw new UsageError(`--containerd-address ${flag}: not a socket`);
  return address;
}
