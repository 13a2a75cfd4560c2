// The one place where domain errors become gRPC statuses, with the codes
// containerd's errdefs uses for the same conditions.
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { StrataError, type ErrorKind } from '../errdefs';

const CODES: Record<ErrorKind, status> = {
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  FailedPrecondition: status.FAILED_PRECONDITION,
  InvalidArgument: status.INVALID_ARGUMENT,
  OutOfRange: status.OUT_OF_RANGE,
  Unavailable: status.UNAVAILABLE,
  Unimplemented: status.UNIMPLEMENTED,
};

export function toServiceError(err: unknown, method: string, log: Logger): ServiceError {
  if (err instanceof StrataError) {
    return serviceError(CODES[err.kind], err.message);
  }
  log.error({ err, method }, 'internal error');
  return serviceError(status.INTERNAL, `${method}: ${err instanceof Error ? err.message : String(err)}`);
}

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}
