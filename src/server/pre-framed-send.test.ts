import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import { sendPreFramedAsIs } from './pre-framed-send';
import { encodeReadResponse, READ_RESPONSE_HEADROOM } from './read-response';

type Serialize = (this: unknown, value: unknown) => Buffer;

test("grpc-js writes a PreEncoded response's own frame, and frames anything else as before", () => {
  sendPreFramedAsIs();
  const serializeMessage = (BaseServerInterceptingCall.prototype as unknown as { serializeMessage: Serialize }).serializeMessage;
  const data = Buffer.from('layer bytes');
  const buffer = Buffer.alloc(READ_RESPONSE_HEADROOM + data.length);
  data.copy(buffer, READ_RESPONSE_HEADROOM);
  const response = encodeReadResponse({ buffer, dataStart: READ_RESPONSE_HEADROOM, length: data.length, position: 300 });
  const call = { handler: { serialize: (value: { bytes: Buffer }) => value.bytes } };
  const framed = serializeMessage.call(call, response);
  assert.equal(framed.buffer, buffer.buffer, 'the frame is the chunk buffer itself, not a copy');
  assert.deepEqual([framed[0], framed.readUInt32BE(1)], [0, framed.length - 5], 'uncompressed, with the length of what follows');
  assert.ok(framed.subarray(5).equals(response.bytes));

  const plain = Buffer.from([8, 1]);
  const copied = serializeMessage.call({ handler: { serialize: () => plain } }, {});
  assert.deepEqual([...copied], [0, 0, 0, 0, 2, 8, 1]);
});
