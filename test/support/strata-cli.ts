// The built CLI run as a user runs it: its exit code, stdout and stderr,
// whether it succeeds or fails, and the one-line failure every command owes.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { STRATA_CLI } from '../../native-bench/harness/strata';

const execFileAsync = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group instead of root. */
  uid?: number;
  gid?: number;
  cwd?: string;
  /** Killed (SIGKILL) past this many milliseconds. */
  timeout?: number;
}

export async function runStrata(args: string[], options: CliOptions = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [STRATA_CLI, ...args], { ...options, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Failed with `code`, saying what is wrong on one line of stderr, with no stack, and nothing on stdout. */
export function assertFailure(run: CliRun, code: number, message: RegExp, command: string): void {
  assert.equal(run.code, code, `${command}: exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '', `${command}: stdout`);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `${command}: one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0], message, command);
  assert.doesNotMatch(lines[0], /\bat .*:\d+:\d+/, `${command}: a stack trace`);
}

/** `text` as a pattern that matches it literally, for messages that quote paths. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
