// Content Write and Read through gRPC, as containerd's content proxy moves
// blobs (1 MiB messages, each Write answered before the next), with one or
// several writers at once; against strata and against containerd's built-in
// content store through containerd's own Content service.
import { createHash, randomFillSync } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../src/client/connect';
import type { ReadResponse } from '../src/client/content-messages';
import { writeBlob } from './content-writer';

const MiB = 1 << 20;

export interface Blob {
  digest: string;
  chunks: Buffer[];
}

/** A blob of distinct random MiBs (so no two writers write the same digest). */
export function makeBlob(mib: number): Blob {
  const chunks = Array.from({ length: mib }, () => randomFillSync(Buffer.allocUnsafe(MiB)));
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return { digest: `sha256:${hash.digest('hex')}`, chunks };
}

async function readBlob(content: grpc.Client, digest: string): Promise<number> {
  const call = (content as unknown as { Read(request: object): grpc.ClientReadableStream<ReadResponse> }).Read({ digest, offset: 0, size: 0 });
  let bytes = 0;
  for await (const message of call as AsyncIterable<ReadResponse>) bytes += message.data.length;
  return bytes;
}

export interface Throughput {
  writeMiBPerSecond: number;
  readMiBPerSecond: number;
}

/** All writers write at once, then all read back at once, then the blobs are deleted. */
export async function measureContent(content: grpc.Client, blobs: Blob[]): Promise<Throughput> {
  const mib = blobs.reduce((sum, b) => sum + b.chunks.length, 0);
  let start = process.hrtime.bigint();
  await Promise.all(blobs.map((b, i) => writeBlob(content, `bench-content-${i}-${b.digest}`, b.chunks.length * MiB, b.digest, b.chunks)));
  const writeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  start = process.hrtime.bigint();
  const read = await Promise.all(blobs.map((b) => readBlob(content, b.digest)));
  const readSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (read.some((bytes, i) => bytes !== blobs[i].chunks.length * MiB)) throw new Error('a blob read back short');
  for (const b of blobs) await unaryCall(content, 'Delete', { digest: b.digest });
  return { writeMiBPerSecond: mib / writeSeconds, readMiBPerSecond: mib / readSeconds };
}
