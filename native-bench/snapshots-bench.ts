// Snapshot operations through gRPC against a fresh strata, for each backend:
// prepare+commit of a chain of empty layers, preparing on top of a parent
// holding many small files (native copies it, overlayfs does not), and
// measuring an active snapshot's usage. Prints figures; asserts nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, unaryCall } from '../src/client/connect';
import { startStrata, type StrataBackend } from './harness/strata';

const CHAIN_LENGTH = 100;
const PARENT_FILES = 5000;

interface WireMount {
  type: string;
  source: string;
  options: string[];
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

async function benchBackend(backend: StrataBackend): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `strata-bench-${backend}-`));
  const address = path.join(dir, 's.sock');
  const strata = await startStrata({ root: path.join(dir, 'root'), address, backend, logFile: path.join(dir, 'log') });
  const client = connect(address);
  const call = <Res>(method: string, req: object) => unaryCall<object, Res>(client.snapshots, method, req);
  try {
    const [, chainMs] = await timed(async () => {
      let parent = '';
      for (let i = 0; i < CHAIN_LENGTH; i++) {
        await call('Prepare', { key: `chain-${i}-active`, parent });
        await call('Commit', { key: `chain-${i}-active`, name: `chain-${i}` });
        parent = `chain-${i}`;
      }
    });
    report(backend, `prepare+commit, chain of ${CHAIN_LENGTH}`, `${((CHAIN_LENGTH * 1000) / chainMs).toFixed(0)} layers/s`);

    // Fill a base layer directly through its bind mount's source directory.
    const { mounts } = await call<{ mounts: WireMount[] }>('Prepare', { key: 'base-active', parent: '' });
    const base = mounts[0].source;
    for (let i = 0; i < PARENT_FILES; i++) {
      const sub = path.join(base, `d${i % 50}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `f${i}`), `file ${i}\n`.repeat(8));
    }
    await call('Commit', { key: 'base-active', name: 'base' });
    const [, prepareMs] = await timed(() => call('Prepare', { key: 'top', parent: 'base' }));
    report(backend, `prepare on a parent of ${PARENT_FILES} files`, `${prepareMs.toFixed(1)} ms`);
    const [usage, usageMs] = await timed(() => call<{ size: number; inodes: number }>('Usage', { key: 'top' }));
    report(backend, 'usage of that active snapshot', `${usageMs.toFixed(1)} ms (${usage.inodes} inodes)`);
  } finally {
    client.close();
    await strata.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(backend: string, what: string, figure: string): void {
  process.stdout.write(`${backend.padEnd(10)} ${what.padEnd(40)} ${figure}\n`);
}

async function main(): Promise<void> {
  for (const backend of ['overlayfs', 'native'] as const) await benchBackend(backend);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
