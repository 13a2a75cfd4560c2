// Writes a blob into strata's content store the way containerd's content
// proxy does: STAT, then one WRITE of at most 1 MiB at a time, each waiting
// for its reply, then COMMIT.
import type * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import type { WriteResponse } from '../src/client/content-messages';

type WriteStream = grpc.ClientDuplexStream<object, WriteResponse>;

function lockstep(stream: WriteStream) {
  let pending: { resolve: (r: WriteResponse) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  stream.on('data', (r: WriteResponse) => pending?.resolve(r));
  stream.on('error', (err: Error) => {
    failure = err;
    pending?.reject(err);
  });
  return (request: object): Promise<WriteResponse> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      pending = { resolve, reject };
      stream.write(request);
    });
}

/** Streams chunks into the store under ref and returns the committed digest. */
export async function writeBlob(
  content: grpc.Client,
  ref: string,
  total: number,
  expected: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  labels: Record<string, string> = {},
): Promise<string> {
  const stream = (content as unknown as { Write(): WriteStream }).Write();
  const send = lockstep(stream);
  await send({ action: 'STAT', ref, total, expected });
  let offset = 0;
  for await (const data of chunks) {
    await send({ action: 'WRITE', offset, data });
    offset += data.length;
  }
  const committed = await send({ action: 'COMMIT', offset, total, expected, labels });
  stream.end();
  if (expected !== '' && committed.digest !== expected) {
    throw new Error(`committed ${committed.digest}, expected ${expected}`);
  }
  return committed.digest;
}

/** A file's bytes in 1 MiB chunks, as containerd's copy buffer sends them. */
export function fileChunks(file: string): AsyncIterable<Buffer> {
  return fs.createReadStream(file, { highWaterMark: 1 << 20 });
}
