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

/** Sends one message, waiting for the client to drain when its buffer is full. */
export type Send<Res> = (message: Res) => Promise<void>;

function sender<Res>(call: grpc.ServerWritableStream<unknown, Res> | grpc.ServerDuplexStream<unknown, Res>): Send<Res> {
  return (message) =>
    call.write(message) ? Promise.resolve() : new Promise((resolve) => call.once('drain', () => resolve()));
}

/** A server-streaming call whose handler sends messages and resolves when done. */
export function serverStream<Req, Res>(
  method: string,
  log: Logger,
  handler: (request: Req, send: Send<Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    handler(call.request, sender(call)).then(
      () => call.end(),
      // grpc-js turns an 'error' event on a server stream into the call's status.
      (err) => call.emit('error', toServiceError(err, method, log)),
    );
  };
}

/** A bidirectional call; the handler reads requests from the iterator. */
export function bidiStream<Req, Res>(
  method: string,
  log: Logger,
  handler: (requests: AsyncIterator<Req>, send: Send<Res>) => Promise<void>,
): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => {
    handler(call[Symbol.asyncIterator]() as AsyncIterator<Req>, sender(call)).then(
      () => call.end(),
      (err) => call.emit('error', toServiceError(err, method, log)),
    );
  };
}
