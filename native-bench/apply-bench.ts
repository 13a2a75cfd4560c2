// Layer unpacking through the Diff service, as containerd 1.7+ calls it: a
// layer of many small files plus a few large ones, gzip and zstd, applied into
// a fresh overlayfs snapshot. Prints uncompressed MiB/s, files/s and strata's
// peak resident memory during each apply. Asserts nothing.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import { connect, unaryCall } from '../src/client/connect';
import { startStrata } from './harness/strata';
import { fileChunks, writeBlob } from './content-writer';

const SMALL_FILES = Number(process.env.STRATA_BENCH_FILES ?? 20000);
const LARGE_FILES = 4;
const LARGE_MIB = Number(process.env.STRATA_BENCH_LARGE_MIB ?? 64);
const MIB = 1 << 20;

/** Streams the layer tar to `out`; returns its diff ID and size. */
async function buildLayer(out: string, compress: () => NodeJS.ReadWriteStream): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, compress(), fs.createWriteStream(out));
  const block = randomBytes(MIB);
  for (let d = 0; d < 200; d++) pack.entry({ name: `usr/share/d${d}/`, type: 'directory', mode: 0o755 });
  for (let i = 0; i < SMALL_FILES; i++) {
    const body = block.subarray(i % 1000, (i % 1000) + 512 + ((i * 7919) % 7680));
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: `usr/share/d${i % 200}/f${i}`, mode: 0o644 }, body, (err) => (err ? reject(err) : resolve())),
    );
  }
  for (let i = 0; i < LARGE_FILES; i++) {
    const sink = pack.entry({ name: `opt/large-${i}`, size: LARGE_MIB * MIB, mode: 0o644 });
    for (let m = 0; m < LARGE_MIB; m++) {
      if (!sink.write(block)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await writing;
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-apply-bench-'));
  const address = path.join(dir, 's.sock');
  const strata = await startStrata({ root: path.join(dir, 'root'), address, backend: 'overlayfs', logFile: path.join(dir, 'log') });
  const client = connect(address);
  try {
    const layers = [
      { name: 'gzip', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', compress: () => createGzip() },
      { name: 'zstd', mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', compress: () => new CompressStream() },
    ];
    for (const layer of layers) {
      const file = path.join(dir, `layer.${layer.name}`);
      await buildLayer(file, layer.compress);
      const hash = createHash('sha256');
      for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
      const digest = `sha256:${hash.digest('hex')}`;
      const size = fs.statSync(file).size;
      await writeBlob(client.content, `layer-${layer.name}`, size, digest, fileChunks(file));

      const { mounts } = await unaryCall<object, { mounts: object[] }>(client.snapshots, 'Prepare', { key: layer.name, parent: '' });
      // Reset the peak-RSS counter so the figure belongs to this apply alone.
      fs.writeFileSync(`/proc/${strata.pid}/clear_refs`, '5');
      const start = process.hrtime.bigint();
      const { applied } = await unaryCall<object, { applied: { size: number } }>(client.diff, 'Apply', {
        diff: { media_type: layer.mediaType, digest, size },
        mounts,
      });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const files = SMALL_FILES + LARGE_FILES;
      process.stdout.write(
        `apply ${layer.name.padEnd(5)} ${(applied.size / MIB).toFixed(0)} MiB, ${files} files: ` +
          `${(applied.size / MIB / seconds).toFixed(0)} MiB/s, ${(files / seconds).toFixed(0)} files/s, ` +
          `${seconds.toFixed(2)} s, strata peak RSS ${peakRssMiB(strata.pid).toFixed(0)} MiB\n`,
      );
      fs.rmSync(file);
    }
  } finally {
    client.close();
    await strata.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
