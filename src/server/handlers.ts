// Adapts async functions to grpc-js handlers, mapping errors once.
import type * as grpc from '@grpc/grpc-js';
import { cancelled } from '../errdefs';
import { toServiceError } from './status';

/** Aborted when the client cancels the call (or its deadline passes), so the work behind it stops. */
export type CancellableHandler<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res>;

/**
 * grpc-js reports 'cancelled' when any call's stream closes, finished or not,
 * so the listener goes as soon as the handler is done: a finished call
 * builds no error and aborts nothing.
 */
function cancellation(call: grpc.ServerUnaryCall<unknown, unknown>): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const onCancel = () => controller.abort(cancelled('the client cancelled the call'));
  call.once('cancelled', onCancel);
  return { signal: controller.signal, done: () => call.off('cancelled', onCancel) };
}

/** Every handler still running, cancelled or not: shutdown waits for them before closing the store under them. */
const running = new Set<Promise<unknown>>();

function tracked<T>(work: Promise<T>): Promise<T> {
  running.add(work);
  const forget = () => running.delete(work);
  work.then(forget, forget);
  return work;
}

/** Resolves once every handler running now has finished. */
export async function handlersFinished(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}

function answer<Res>(method: string, work: Promise<Res>, callback: grpc.sendUnaryData<Res>): void {
  tracked(work).then(
    (response) => callback(null, response),
    (err) => callback(toServiceError(err, method)),
  );
}

/** A unary call whose work takes milliseconds: it runs to its end even when the client goes. */
export function unary<Req, Res>(method: string, handler: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => answer(method, handler(call.request), callback);
}

/**
 * A unary call whose work can take long (an Apply, a Diff), stopped when the
 * client cancels. Only these make an AbortSignal: one cost 7 µs of every
 * snapshot call, a few per cent of a Stat.
 */
export function cancellableUnary<Req, Res>(method: string, handler: CancellableHandler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const { signal, done } = cancellation(call);
    answer(method, handler(call.request, signal).finally(done), callback);
  };
}

export interface Send<Res> {
  /** Sends one message, waiting for the client to drain when its buffer is full. */
  (message: Res): Promise<void>;
  /** Sends one message and resolves once it is written, so whatever it refers to may be reused. */
  written(message: Res): Promise<void>;
}

type ServerStream<Res> = grpc.ServerWritableStream<unknown, Res> | grpc.ServerDuplexStream<unknown, Res>;

/**
 * Resolves when `start`'s callback is called, or rejects when the client
 * goes: a cancelled client never drains, and a cancelled call writes nothing,
 * so the handler can release what it holds.
 */
function unlessCancelled(call: ServerStream<unknown>, start: (done: () => void) => () => void): Promise<void> {
  if (call.cancelled) return Promise.reject(cancelled('the client cancelled the call'));
  return new Promise((resolve, reject) => {
    let stop = (): void => undefined;
    const gone = () => {
      stop();
      reject(cancelled('the client cancelled the call'));
    };
    call.once('cancelled', gone);
    stop = start(() => {
      call.off('cancelled', gone);
      resolve();
    });
  });
}

function sender<Res>(call: ServerStream<Res>): Send<Res> {
  const send = (message: Res): Promise<void> => {
    if (!call.cancelled && call.write(message)) return Promise.resolve();
    return unlessCancelled(call, (drained) => {
      call.once('drain', drained);
      return () => call.off('drain', drained);
    });
  };
  send.written = (message: Res): Promise<void> =>
    unlessCancelled(call, (written) => {
      call.write(message, written);
      return () => undefined;
    });
  return send;
}

/**
 * The requests of a bidirectional call, one at a time. Unlike the stream's own
 * async iterator, finishing does not destroy the call, so a status can still
 * be sent; at most a few messages are buffered before the client is paused.
 */
function requests<Req>(call: grpc.ServerDuplexStream<Req, unknown>): AsyncIterator<Req> {
  const queue: Req[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  call.on('data', (message: Req) => {
    queue.push(message);
    if (queue.length >= 4) call.pause();
    notify();
  });
  for (const event of ['end', 'cancelled', 'error']) {
    call.once(event, () => {
      ended = true;
      notify();
    });
  }
  return {
    async next(): Promise<IteratorResult<Req>> {
      while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      if (queue.length === 0) return { done: true, value: undefined };
      const message = queue.shift() as Req;
      if (queue.length < 4) call.resume();
      return { done: false, value: message };
    },
  };
}

/** A server-streaming call whose handler sends messages and resolves when done. */
export function serverStream<Req, Res>(
  method: string,
  handler: (request: Req, send: Send<Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    tracked(handler(call.request, sender(call))).then(
      () => call.end(),
      // grpc-js turns an 'error' event on a server stream into the call's status.
      (err) => call.emit('error', toServiceError(err, method)),
    );
  };
}

/** A bidirectional call; the handler reads requests from the iterator. */
export function bidiStream<Req, Res>(
  method: string,
  handler: (requests: AsyncIterator<Req>, send: Send<Res>) => Promise<void>,
): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => {
    tracked(handler(requests(call), sender(call))).then(
      () => call.end(),
      (err) => call.emit('error', toServiceError(err, method)),
    );
  };
}
