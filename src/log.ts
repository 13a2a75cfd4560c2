// Structured logs as JSON lines on stderr, so stdout stays free for command
// output; human-readable text on a terminal or when asked. With a log file,
// SIGHUP reopens it (after logrotate has moved it).
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogFormat } from './config/config';

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

export function createServerLog(options: LogOptions): ServerLog {
  const destination = options.file ? pino.destination({ dest: options.file, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
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
