// grpc-js frames every response into a new buffer: for Content.Read that was
// a 1 MiB allocation and copy per message, and most of the garbage the
// collector then spent a third of the server's time on. A PreEncoded
// response already holds its frame, so grpc-js is made to write it as it is.
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import { PreEncoded } from './read-response';

type Serialize = (this: unknown, value: unknown) => Buffer;

let installed = false;

/** Makes every grpc-js server in this process write a PreEncoded response's frame without copying it. */
export function sendPreFramedAsIs(): void {
  if (installed) return;
  const prototype = BaseServerInterceptingCall.prototype as unknown as { serializeMessage?: Serialize };
  const frame = prototype.serializeMessage;
  if (typeof frame !== 'function') throw new Error('grpc-js no longer frames responses where strata looks for it');
  prototype.serializeMessage = function serializeMessage(value) {
    return value instanceof PreEncoded ? value.framed : frame.call(this, value);
  };
  installed = true;
}
