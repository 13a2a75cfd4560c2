// Content.Read's responses, framed in place: the gRPC message prefix and the
// protobuf header go into the free bytes before a chunk's data, so the data
// is never copied between the file and the socket.
import type { Chunk } from '../content/range-chunks';

/** gRPC's length prefix: a compressed flag and a big-endian uint32 length. */
export const MESSAGE_PREFIX = 5;

/**
 * A message already in its wire form, behind its gRPC prefix. The method's
 * serializer passes `bytes` through, and grpc-js, patched by
 * sendPreFramedAsIs, writes `framed` itself.
 */
export class PreEncoded {
  constructor(readonly framed: Buffer) {}

  get bytes(): Buffer {
    return this.framed.subarray(MESSAGE_PREFIX);
  }
}

/** Bytes before the data: the prefix, then two tags, an int64 varint and a length varint. */
export const READ_RESPONSE_HEADROOM = MESSAGE_PREFIX + 1 + 10 + 1 + 5;

// ReadContentResponse: int64 offset = 1; bytes data = 2.
const OFFSET_TAG = (1 << 3) | 0;
const DATA_TAG = (2 << 3) | 2;

function varint(value: number, out: number[]): void {
  // Offsets pass 2^32, so no bitwise arithmetic.
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** The chunk as a ReadContentResponse{offset: chunk.position, data}, written into its buffer's headroom. */
export function encodeReadResponse(chunk: Chunk): PreEncoded {
  const header: number[] = [];
  // proto3 leaves out a zero offset and empty data, as protobufjs and Go's encoder do.
  if (chunk.position > 0) {
    header.push(OFFSET_TAG);
    varint(chunk.position, header);
  }
  if (chunk.length > 0) {
    header.push(DATA_TAG);
    varint(chunk.length, header);
  }
  const start = chunk.dataStart - header.length - MESSAGE_PREFIX;
  if (start < 0) throw new Error(`a ${header.length}-byte header does not fit in ${chunk.dataStart} bytes of headroom`);
  chunk.buffer.writeUInt8(0, start);
  chunk.buffer.writeUInt32BE(header.length + chunk.length, start + 1);
  chunk.buffer.set(header, start + MESSAGE_PREFIX);
  return new PreEncoded(chunk.buffer.subarray(start, chunk.dataStart + chunk.length));
}
