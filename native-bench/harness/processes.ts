// Starting server processes for tests, waiting on them, and making sure none
// outlives the test process; running commands that an interrupted run can
// end.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the command is not installed). */
  spawnError?: string;
}

export interface ServerProcess {
  child: ChildProcess;
  /** Settles once the process has exited, however it ended. */
  exited: Promise<ExitStatus>;
  /** File collecting the process's stdout and stderr. */
  logFile: string;
  /** The end of the log, for error messages. */
  logTail(): string;
}

const running = new Set<ChildProcess>();

// Safety net for a test process that ends without its after hooks running:
// servers started here must not be left behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `command` with its output appended to `logFile`. */
export function startServer(command: string, args: string[], logFile: string): ServerProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  running.add(child);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve({ code: null, signal: null, spawnError: error.message });
    });
  });
  return {
    child,
    exited,
    logFile,
    logTail: () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n'),
  };
}

/** Resolves once something accepts connections on the unix socket `address`. */
function canConnect(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until `server` accepts connections on `address`; fails early, with
 * the server's log, if it exits or takes longer than `timeoutMs`.
 */
export async function waitForSocket(server: ServerProcess, address: string, timeoutMs: number): Promise<void> {
  let exit: ExitStatus | undefined;
  void server.exited.then((status) => (exit = status));
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(address))) {
    if (exit !== undefined) {
      throw new Error(`${server.child.spawnfile} exited (${JSON.stringify(exit)}) before listening on ${address}:\n${server.logTail()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${server.child.spawnfile} not listening on ${address} after ${timeoutMs}ms:\n${server.logTail()}`);
    }
    await sleep(50);
  }
}

/** Sends `signal` and waits for the exit; SIGKILLs and reports a timeout if it takes over `timeoutMs`. */
export async function stopServer(server: ServerProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  // Unref'd, so a pending timeout cannot keep the test process alive once the server is gone.
  const status = await Promise.race([server.exited, sleep(timeoutMs, undefined, { ref: false })]);
  if (status === undefined) {
    server.child.kill('SIGKILL');
    await server.exited;
    throw new Error(`${server.child.spawnfile} did not exit within ${timeoutMs}ms of ${signal}:\n${server.logTail()}`);
  }
  return status;
}

/** Commands execCommand started that have not ended. */
const commands = new Set<ChildProcess>();
/** Set by killCommands: from then on only a cleanup's commands run. */
let killed = false;

export interface CommandOptions {
  cwd?: string;
  /** Part of a cleanup, which runs after killCommands(): neither refused nor killed by it. */
  cleanup?: boolean;
}

/**
 * Runs a command to its end: its stdout and stderr, or a rejection carrying
 * them, as execFile's promise gives. killCommands() ends it.
 */
export function execCommand(command: string, args: string[], options: CommandOptions = {}): Promise<{ stdout: string; stderr: string }> {
  if (killed && !options.cleanup) return Promise.reject(new Error(`${command}: not run, the run was interrupted`));
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: options.cwd, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      commands.delete(child);
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    if (!options.cleanup) commands.add(child);
  });
}

/**
 * Kills every command execCommand started that is still running, waits
 * until each has exited, and refuses any started after, but a cleanup's:
 * an interrupted run cleans up after its commands, not beside them.
 */
export async function killCommands(): Promise<void> {
  killed = true;
  await Promise.all(
    [...commands].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
