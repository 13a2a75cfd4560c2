// Content throughput through gRPC against a fresh strata: a blob written the
// way containerd's content proxy writes, committed with verification, then
// read back with Read. Prints MiB/s.
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { connect } from '../src/client/connect';
import { startStrata } from './harness/strata';
import { writeBlob } from './content-writer';

const MIB = 1 << 20;
const BLOB_MIB = Number(process.env.STRATA_BENCH_MIB ?? 512);

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

    let start = process.hrtime.bigint();
    await writeBlob(client.content, 'bench', size, digest, Array.from({ length: BLOB_MIB }, () => chunk));
    const writeS = Number(process.hrtime.bigint() - start) / 1e9;
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
