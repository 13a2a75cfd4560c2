// Content.Read's responses, encoded in place: the protobuf header goes into
// the free bytes before a chunk's data, so the data is copied once, into
// grpc-js's frame, instead of first into protobufjs's buffer as well.
import type { Chunk } from '../content/range-chunks';

/** A message already in its wire form; the method's serializer passes it through. */
export class PreEncoded {
  constructor(readonly bytes: Buffer) {}
}

/** Bytes a ReadContentResponse header can take: two tags, an int64 varint and a length varint. */
export const READ_RESPONSE_HEADROOM = 1 + 10 + 1 + 5;

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
  const start = chunk.dataStart - header.length;
  if (start < 0) throw new Error(`a ${header.length}-byte header does not fit in ${chunk.dataStart} bytes of headroom`);
  chunk.buffer.set(header, start);
  return new PreEncoded(chunk.buffer.subarray(start, chunk.dataStart + chunk.length));
}
