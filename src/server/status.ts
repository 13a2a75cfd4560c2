// The one place where domain errors become gRPC statuses, with the codes
// containerd's errdefs uses for the same conditions.
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { StrataError, type ErrorKind } from '../errdefs';

const CODES: Record<ErrorKind, status> = {
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  FailedPrecondition: status.FAILED_PRECONDITION,
  InvalidArgument: status.INVALID_ARGUMENT,
  OutOfRange: status.OUT_OF_RANGE,
  Unavailable: status.UNAVAILABLE,
  Unimplemented: status.UNIMPLEMENTED,
  Cancelled: status.CANCELLED,
};

/** What gRPC documents RESOURCE_EXHAUSTED for: the file system (or SQLite on it) is out of space. */
const FULL_DISK = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * What went wrong inside the server, by the status's trailers: the call's
 * observer logs the error with its stack once, and the client sees only
 * the message.
 */
const causes = new WeakMap<Metadata, unknown>();

export function causeOf(metadata: Metadata): unknown {
  return causes.get(metadata);
}

export function toServiceError(err: unknown, method: string): ServiceError {
  if (err instanceof StrataError) {
    return serviceError(CODES[err.kind], err.message);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && FULL_DISK.has(code)) {
    return serviceError(status.RESOURCE_EXHAUSTED, `${method}: ${(err as Error).message}`, err);
  }
  return serviceError(status.INTERNAL, `${method}: ${err instanceof Error ? err.message : String(err)}`, err);
}

function serviceError(code: status, details: string, cause?: unknown): ServiceError {
  const metadata = new Metadata();
  if (cause !== undefined) causes.set(metadata, cause);
  return Object.assign(new Error(details), { code, details, metadata });
}

/** A status a client got back, as the domain error it stands for, with what was being asked of whom. */
export function fromServiceError(err: unknown, context: string): unknown {
  const { code, details } = (err ?? {}) as Partial<ServiceError>;
  if (typeof code !== 'number') return err;
  const kind = (Object.keys(CODES) as ErrorKind[]).find((k) => CODES[k] === code);
  const message = `${context}: ${details || (err as Error).message}`;
  return kind ? new StrataError(kind, message) : new Error(message);
}
