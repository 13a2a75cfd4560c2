// Snapshot operations through the Snapshots gRPC service: the same client
// against strata and against containerd's built-in overlayfs (through
// containerd's own service, in a namespace). On top of a chain of committed
// snapshots of the given depth, each client runs rounds of Prepare, Mounts,
// Commit, Stat, View, Remove (the view) and Remove (the commit); the
// latency of every operation is kept.
import type * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../src/client/connect';
import type { OperationFigures } from './model';
import { percentile } from './stats';

/** containerd's collector must not take the bench's snapshots while it works with them. */
const KEEP = { 'containerd.io/gc.root': 'strata-bench' };

export const OPERATIONS = ['Prepare', 'Mounts', 'Commit', 'Stat', 'View', 'Remove view', 'Remove'] as const;
type Operation = (typeof OPERATIONS)[number];

export interface SnapshotTarget {
  client: grpc.Client;
  snapshotter: string;
}

async function call(target: SnapshotTarget, method: string, request: object): Promise<void> {
  await unaryCall(target.client, method, { snapshotter: target.snapshotter, ...request });
}

/** A chain of `depth` committed, empty snapshots; returns its top. */
export async function buildChain(target: SnapshotTarget, prefix: string, depth: number): Promise<string[]> {
  const names: string[] = [];
  let parent = '';
  for (let i = 0; i < depth; i++) {
    const key = `${prefix}-${i}-active`;
    const name = `${prefix}-${i}`;
    await call(target, 'Prepare', { key, parent, labels: KEEP });
    await call(target, 'Commit', { name, key, labels: KEEP });
    names.push(name);
    parent = name;
  }
  return names;
}

export async function removeChain(target: SnapshotTarget, names: string[]): Promise<void> {
  for (const name of [...names].reverse()) await call(target, 'Remove', { key: name });
}

export interface Latencies {
  /** Seconds per call, by operation; `round` is the sum of a round's calls. */
  byOperation: Record<Operation | 'round', number[]>;
  wallSeconds: number;
}

/** `clients` concurrent clients, `rounds` rounds each, on top of `top`. */
export async function runRounds(target: SnapshotTarget, prefix: string, top: string, clients: number, rounds: number): Promise<Latencies> {
  const byOperation = Object.fromEntries([...OPERATIONS, 'round'].map((op) => [op, [] as number[]])) as Latencies['byOperation'];
  const timedCall = async (op: Operation, method: string, request: object): Promise<number> => {
    const start = process.hrtime.bigint();
    await call(target, method, request);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    byOperation[op].push(seconds);
    return seconds;
  };
  const client = async (c: number) => {
    for (let r = 0; r < rounds; r++) {
      const key = `${prefix}-c${c}-r${r}`;
      let round = 0;
      round += await timedCall('Prepare', 'Prepare', { key: `${key}-active`, parent: top, labels: KEEP });
      round += await timedCall('Mounts', 'Mounts', { key: `${key}-active` });
      round += await timedCall('Commit', 'Commit', { name: key, key: `${key}-active`, labels: KEEP });
      round += await timedCall('Stat', 'Stat', { key });
      round += await timedCall('View', 'View', { key: `${key}-view`, parent: key, labels: KEEP });
      round += await timedCall('Remove view', 'Remove', { key: `${key}-view` });
      round += await timedCall('Remove', 'Remove', { key });
      byOperation.round.push(round);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  return { byOperation, wallSeconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export function figures(latencies: number[], wallSeconds: number): OperationFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 50) * 1000,
    p90Ms: percentile(sorted, 90) * 1000,
    p99Ms: percentile(sorted, 99) * 1000,
    opsPerSecond: latencies.length / wallSeconds,
  };
}
