// Mounting what ctr prints, and unmounting everything below a directory, so
// tests can mount snapshots and never leave a mount behind.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Mount points at or below `dir`, deepest first (the order they can be unmounted in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const mountinfo = await fs.promises.readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .filter((line) => line !== '')
    // Field 5 is the mount point, with space, tab, newline and backslash escaped as \ooo.
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mountPoint) => mountPoint === root || mountPoint.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts every mount at or below `dir`; throws if any is still there afterwards. */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (const mountPoint of await mountsUnder(dir)) {
    try {
      await execFileAsync('umount', [mountPoint]);
    } catch {
      // Busy (e.g. a process still has a file open): detach it so the directory can go.
      await execFileAsync('umount', ['--lazy', mountPoint]);
    }
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted under ${dir}: ${left.join(', ')}`);
}

/**
 * Runs the mount commands `ctr snapshots view --target TARGET` prints, each
 * `mount -t TYPE SOURCE TARGET -o OPTIONS`, without a shell. Anything else in
 * the output, or a command for another target, is refused.
 */
export async function mountPrintedCommands(printed: string, target: string): Promise<void> {
  const lines = printed.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new Error('ctr printed no mount command');
  for (const line of lines) {
    const words = line.split(' ');
    const [command, typeFlag, type, source, printedTarget, optionsFlag, options] = words;
    if (
      words.length !== 7 ||
      command !== 'mount' ||
      typeFlag !== '-t' ||
      optionsFlag !== '-o' ||
      printedTarget !== target ||
      type === '' ||
      source === ''
    ) {
      throw new Error(`unexpected mount command from ctr: ${JSON.stringify(line)}`);
    }
    const optionArgs = options === '' ? [] : ['-o', options];
    await execFileAsync('mount', ['-t', type, ...optionArgs, source, target]);
  }
}
