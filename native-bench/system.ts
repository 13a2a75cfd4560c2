// The machine-level pieces the arms share: timing, dropping the page cache,
// flushing a filesystem, the machine's I/O stalls, a process's peak memory,
// and running commands.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { syscalls } from '../src/native/syscalls';
import { execCommand } from './harness/processes';

export const execFileAsync = promisify(execFile);

export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - start) / 1e9];
}

/** Writes back dirty pages and drops the page cache, so the next read comes from disk. Needs root. */
export async function dropCaches(): Promise<void> {
  await execFileAsync('sync');
  await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3\n');
}

export async function canDropCaches(): Promise<boolean> {
  try {
    await fs.promises.access('/proc/sys/vm/drop_caches', fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** How long it takes to flush what was just written to the filesystem holding `dir`: the sync phase. */
export function syncSeconds(dir: string): number {
  const start = process.hrtime.bigint();
  syscalls.syncfs(dir);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Seconds in which some task on the machine waited for I/O, so far (the
 * kernel's pressure stall information): the difference across a sample says
 * how much of it the disk held up. Undefined on a kernel without PSI.
 */
export function ioStallSeconds(): number | undefined {
  try {
    const some = /^some .*total=(\d+)$/m.exec(fs.readFileSync('/proc/pressure/io', 'utf8'));
    return some ? Number(some[1]) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets a process's peak resident set (VmHWM), so that the next reading covers only what follows. */
export function resetPeakRss(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export function peakRssBytes(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

/** A process's resident set now (VmRSS). */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

function statusBytes(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return kib ? Number(kib[1]) * 1024 : NaN;
}

/** Runs a command; rejects with its stderr, on one line. */
export async function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execCommand(command, args, options);
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim().split('\n').pop();
    throw new Error(`${command} ${args.slice(0, 3).join(' ')}...: ${stderr || (err as Error).message}`);
  }
}

export async function removeTree(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
}
