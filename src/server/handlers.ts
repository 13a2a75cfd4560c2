// Adapts async functions to grpc-js handlers, mapping errors once.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toServiceError } from './status';

export type UnaryHandler<Req, Res> = (request: Req) => Promise<Res>;

export function unary<Req, Res>(
  method: string,
  log: Logger,
  handler: UnaryHandler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request).then(
      (response) => callback(null, response),
      (err) => callback(toServiceError(err, method, log)),
    );
  };
}

/** A server-streaming call whose handler writes messages and resolves when done. */
export function serverStream<Req, Res>(
  method: string,
  log: Logger,
  handler: (request: Req, send: (message: Res) => void) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    handler(call.request, (message) => call.write(message)).then(
      () => call.end(),
      (err) => call.destroy(toServiceError(err, method, log)),
    );
  };
}
