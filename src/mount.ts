// Mounting through mount(8), which knows every filesystem's option syntax
// (and, for overlay, how to pass long lowerdir lists).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from './snapshots/types';

const run = promisify(execFile);

export async function mountAt(mount: Mount, target: string): Promise<void> {
  const args = ['-t', mount.type, mount.source, target];
  if (mount.options.length > 0) args.push('-o', mount.options.join(','));
  await run('mount', args);
}

/** A lazy unmount detaches now and finishes when the mount is no longer busy. */
export async function unmount(target: string, options: { lazy?: boolean } = {}): Promise<void> {
  await run('umount', options.lazy ? ['-l', target] : [target]);
}

/** Mount points at or under dir, deepest first, from /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    // mountinfo escapes spaces and other octal characters.
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === root || point.startsWith(`${root}/`));
  return points.sort((a, b) => b.length - a.length);
}
