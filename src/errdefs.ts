// Typed domain errors, mirroring containerd's errdefs package. Domain code
// throws these; only src/server maps them to gRPC status codes, once.

export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'FailedPrecondition'
  | 'InvalidArgument'
  | 'OutOfRange'
  | 'Unavailable'
  | 'Unimplemented'
  | 'Cancelled';

export class StrataError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

function factory(kind: ErrorKind) {
  return (message: string): StrataError => new StrataError(kind, message);
}

export const notFound = factory('NotFound');
export const alreadyExists = factory('AlreadyExists');
export const failedPrecondition = factory('FailedPrecondition');
export const invalidArgument = factory('InvalidArgument');
export const outOfRange = factory('OutOfRange');
export const unavailable = factory('Unavailable');
export const unimplemented = factory('Unimplemented');
export const cancelled = factory('Cancelled');

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof StrataError && err.kind === kind;
}

/** Prefixes the message with context while keeping the error's kind. */
export function withContext(err: unknown, context: string): unknown {
  if (err instanceof StrataError) {
    return new StrataError(err.kind, `${context}: ${err.message}`);
  }
  return err;
}

/** Runs fn, adding context to any error it throws ("prepare k: parent p ..."). */
export async function inContext<T>(context: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw withContext(err, context);
  }
}
