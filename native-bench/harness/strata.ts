// Runs the built strata CLI as a black box: `strata serve` on a root and a
// socket, stopped the way containerd's service manager would stop it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../src/package-root';
import { startServer, stopServer, waitForSocket } from './processes';

/** The built CLI of this same checkout, whichever build this file runs from. */
export const STRATA_CLI = path.join(packageRoot(), 'dist/cli.js');

export type StrataBackend = 'overlayfs' | 'native';

export interface StrataOptions {
  root: string;
  address: string;
  backend: StrataBackend;
  /** Collects the server's stdout and stderr; appended to, so restarts keep earlier output. */
  logFile: string;
  /** `--gc-mode`; strata's default (containerd) when absent. */
  gcMode?: 'containerd' | 'labels';
  /** `--config`. */
  configFile?: string;
}

export interface Strata {
  options: StrataOptions;
  /** The server's process id, for reading its memory use from /proc. */
  pid: number;
  /**
   * SIGTERM, then asserts a clean exit (code 0), that the socket was removed,
   * and that Node never had to close a file strata forgot ("Closing file
   * descriptor N on garbage collection").
   */
  stop(): Promise<void>;
}

export async function startStrata(options: StrataOptions): Promise<Strata> {
  const server = startServer(
    process.execPath,
    [STRATA_CLI, 'serve', '--root', options.root, '--address', options.address, '--backend', options.backend, ...(options.gcMode ? ['--gc-mode', options.gcMode] : []), ...(options.configFile ? ['--config', options.configFile] : [])],
    options.logFile,
  );
  const stop = async (): Promise<void> => {
    const status = await stopServer(server, 'SIGTERM', 15_000);
    assert.deepEqual(status, { code: 0, signal: null }, `strata did not exit cleanly on SIGTERM:\n${server.logTail()}`);
    assert.equal(fs.existsSync(options.address), false, `strata left its socket ${options.address} behind`);
    const leaks = fs
      .readFileSync(options.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('Closing file descriptor'));
    assert.deepEqual(leaks, [], `strata left file handles to the garbage collector (${options.logFile})`);
  };
  try {
    await waitForSocket(server, options.address, 20_000);
  } catch (error) {
    await stopServer(server, 'SIGKILL', 5_000);
    throw error;
  }
  return { options, pid: server.child.pid as number, stop };
}
