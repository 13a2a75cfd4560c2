// The type of the filesystem a path lives on ("ext4", "overlay", "nfs4"),
// as findmnt(8) names it: the topmost mount, where mounts are stacked.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** 'unknown' when findmnt cannot tell. */
export async function filesystemType(target: string): Promise<string> {
  try {
    const { stdout } = await run('findmnt', ['-n', '--first-only', '-o', 'FSTYPE', '--target', target]);
    return stdout.trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}
