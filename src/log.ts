// Structured logs as JSON lines on stderr, so stdout stays free for command
// output; human-readable text on a terminal or when asked. With a log file,
// SIGHUP reopens it (after logrotate has moved it).
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat } from './config/config';
import { makeDirectories } from './make-directories';
import { systemErrorText } from './system-error';

export interface LogOptions {
  level: string;
  format: LogFormat;
  /** Empty: stderr. */
  file: string;
}

export interface ServerLog {
  log: Logger;
  /** Reopens the log file at its path; nothing to do for stderr. */
  reopen(): void;
}

export async function createServerLog(options: LogOptions): Promise<ServerLog> {
  const destination = options.file ? await openLogFile(options.file) : pino.destination({ fd: 2, sync: true });
  const terminal = !options.file && process.stderr.isTTY;
  const text = options.format === 'text' || (options.format === 'auto' && terminal);
  // Loaded only for text: a service's log is JSON, and startup time counts.
  const stream: DestinationStream = text
    ? (require('pino-pretty') as typeof import('pino-pretty'))({ destination, sync: true, colorize: terminal, ignore: 'pid,hostname,service' })
    : destination;
  return {
    log: pino({ level: options.level, base: { service: 'strata' } }, stream),
    reopen: () => {
      if (options.file) destination.reopen();
    },
  };
}

/** pino makes a missing directory with Node's recursive mkdir, which spins on a path under /proc: its directory is made here. */
async function openLogFile(file: string): Promise<ReturnType<typeof pino.destination>> {
  try {
    await makeDirectories(path.dirname(file));
    return pino.destination({ dest: file, sync: true });
  } catch (err) {
    throw new Error(`cannot open log.file ${file}: ${systemErrorText(err)}`);
  }
}
