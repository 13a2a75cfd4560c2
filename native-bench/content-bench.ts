// Content throughput through gRPC against a fresh strata: a blob written the
// way containerd's content proxy writes (one 1 MiB WRITE, wait for its reply,
// next), committed with verification, then read back with Read. Prints MiB/s.
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { connect } from '../src/client/connect';
import { startStrata } from '../test/support/strata';

const MIB = 1 << 20;
const BLOB_MIB = Number(process.env.STRATA_BENCH_MIB ?? 512);

interface WriteResponse {
  offset: number;
  digest: string;
}

/** Lockstep request/response over one Write stream, as containerd's remoteWriter does. */
function lockstep(stream: grpc.ClientDuplexStream<object, WriteResponse>) {
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

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-content-bench-'));
  const address = path.join(dir, 's.sock');
  const strata = await startStrata({ root: path.join(dir, 'root'), address, backend: 'native', logFile: path.join(dir, 'log') });
  const client = connect(address);
  try {
    const chunk = randomFillSync(Buffer.alloc(MIB));
    const hash = createHash('sha256');
    for (let i = 0; i < BLOB_MIB; i++) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const size = BLOB_MIB * MIB;

    const stream = (client.content as unknown as { Write(): grpc.ClientDuplexStream<object, WriteResponse> }).Write();
    const send = lockstep(stream);
    let start = process.hrtime.bigint();
    await send({ action: 'STAT', ref: 'bench', total: size, expected: digest });
    for (let offset = 0; offset < size; offset += MIB) await send({ action: 'WRITE', offset, data: chunk });
    const committed = await send({ action: 'COMMIT', offset: size, total: size, expected: digest });
    stream.end();
    const writeS = Number(process.hrtime.bigint() - start) / 1e9;
    if (committed.digest !== digest) throw new Error(`committed ${committed.digest}, expected ${digest}`);
    report(`write ${BLOB_MIB} MiB (1 MiB messages, lockstep), commit verified`, BLOB_MIB / writeS);

    start = process.hrtime.bigint();
    let read = 0;
    const reader = (client.content as unknown as { Read(req: object): grpc.ClientReadableStream<{ data: Buffer }> }).Read({
      digest,
      offset: 0,
      size: 0,
    });
    for await (const message of reader) read += (message as { data: Buffer }).data.length;
    const readS = Number(process.hrtime.bigint() - start) / 1e9;
    if (read !== size) throw new Error(`read ${read} bytes, expected ${size}`);
    report(`read ${BLOB_MIB} MiB (streamed, 1 MiB messages)`, BLOB_MIB / readS);
  } finally {
    client.close();
    await strata.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(what: string, mibPerSecond: number): void {
  process.stdout.write(`content    ${what.padEnd(56)} ${mibPerSecond.toFixed(0)} MiB/s\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
