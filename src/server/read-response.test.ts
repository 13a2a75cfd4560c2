import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as protobuf from 'protobufjs';
import path from 'node:path';
import { packageRoot } from '../package-root';
import { encodeReadResponse, READ_RESPONSE_HEADROOM } from './read-response';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(packageRoot(), 'proto', target);
root.loadSync('containerd/services/content/v1/content.proto', { keepCase: true });
const ReadContentResponse = root.lookupType('containerd.services.content.v1.ReadContentResponse');

test('a Read response encoded in place is the canonical encoding of its offset and data', () => {
  const responseCase = fc.record({
    position: fc.oneof(fc.constant(0), fc.nat(0xffff), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
    extraHeadroom: fc.nat(8),
  });
  fc.assert(
    fc.property(responseCase, ({ position, data, extraHeadroom }) => {
      const dataStart = READ_RESPONSE_HEADROOM + extraHeadroom;
      const buffer = Buffer.alloc(dataStart + data.length, 0xaa);
      buffer.set(data, dataStart);
      const encoded = encodeReadResponse({ buffer, dataStart, length: data.length, position }).bytes;
      // Go's encoder (containerd's server) leaves defaults out; protobufjs writes what the object has.
      const canonical = { ...(position > 0 ? { offset: position } : {}), ...(data.length > 0 ? { data } : {}) };
      const expected = ReadContentResponse.encode(ReadContentResponse.fromObject(canonical)).finish();
      assert.deepEqual(encoded, Buffer.from(expected));
      const decoded = ReadContentResponse.toObject(ReadContentResponse.decode(encoded), { longs: Number, defaults: true });
      assert.equal(decoded.offset, position);
      assert.deepEqual(new Uint8Array(decoded.data), data);
    }),
  );
});

test('the largest header fits in the headroom', () => {
  const length = 16 << 20;
  const buffer = Buffer.alloc(READ_RESPONSE_HEADROOM + length);
  const encoded = encodeReadResponse({ buffer, dataStart: READ_RESPONSE_HEADROOM, length, position: Number.MAX_SAFE_INTEGER });
  const decoded = ReadContentResponse.toObject(ReadContentResponse.decode(encoded.bytes), { longs: Number }) as { offset: number; data: Buffer };
  assert.equal(decoded.offset, Number.MAX_SAFE_INTEGER);
  assert.equal(decoded.data.length, length);
  assert.throws(() => encodeReadResponse({ buffer, dataStart: 3, length: 10, position: Number.MAX_SAFE_INTEGER }), /does not fit/);
});
