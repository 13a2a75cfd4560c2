// Load: 8 clients run 1,000 mixed operations each, snapshots, content and
// diff, at once, after a warm-up of 500 each. Each client works on its own keys and blobs, so a model of
// its own calls says what every call must return: the expected error codes
// and nothing else. At the end the server's whole state must equal the
// models', and its resident size must have stayed flat.
import * as assert from 'node:assert/strict';
import { status as Code } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { gzip, rawTar } from '../support/malicious-layers';
import { applyLayer, grpcCode, readBlob, sha256, writeBlob, type StrataServer, type WireDescriptor } from '../support/strata-grpc';
import { dir, file, symlink } from '../support/tar-entries';
import { rssBytes } from '../../native-bench/system';
import { suiteServer } from '../support/suite-server';

const CLIENTS = 8;
const OPERATIONS = Number(process.env.STRATA_LOAD_OPERATIONS ?? 1000);
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

type Kind = 'active' | 'view' | 'committed';
interface ModelSnapshot {
  kind: Kind;
  parent: string;
  labels: Record<string, string>;
}

/** A small, seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
    return Code.OK;
  } catch (err) {
    const code = grpcCode(err);
    if (code === undefined) throw err;
    return code;
  }
}

interface Layer {
  descriptor: WireDescriptor;
  diffId: string;
}

class Client {
  readonly snapshots = new Map<string, ModelSnapshot>();
  readonly blobs = new Map<string, { data: Buffer; labels: Record<string, string> }>();
  private readonly next: () => number;
  private serial = 0;
  readonly log: string[] = [];

  constructor(
    private readonly s: StrataServer,
    private readonly id: number,
    private readonly layers: Layer[],
  ) {
    this.next = random(1000 + id);
  }

  private pick<T>(items: T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.next() * items.length)];
  }

  private chance(p: number): boolean {
    return this.next() < p;
  }

  private keys(kind?: Kind): string[] {
    return [...this.snapshots].filter(([, v]) => kind === undefined || v.kind === kind).map(([k]) => k);
  }

  private fresh(): string {
    return `c${this.id}-${this.serial++}`;
  }

  private hasChildren(key: string): boolean {
    return [...this.snapshots.values()].some((v) => v.parent === key);
  }

  private snapshotCall(method: string, request: object): Promise<unknown> {
    return unaryCall(this.s.client.snapshots, method, { snapshotter: 'strata', ...request });
  }

  /** One operation: says what it expects, makes the call, checks the code, then updates the model. */
  async step(): Promise<void> {
    const roll = this.next();
    const unknown = `c${this.id}-unknown`;
    let name: string;
    let expected: Code;
    let call: () => Promise<unknown>;
    let apply = () => undefined as void;
    if (roll < 0.18) {
      const view = this.chance(0.25);
      const key = this.chance(0.1) ? (this.pick(this.keys()) ?? this.fresh()) : this.fresh();
      const r = this.next();
      const parent = r < 0.05 ? unknown : r < 0.1 ? (this.pick(this.keys('active')) ?? 'base') : r < 0.4 ? 'base' : (this.pick(this.keys('committed')) ?? '');
      const parentState = parent === '' || parent === 'base' ? 'committed' : parent === unknown ? undefined : this.snapshots.get(parent)?.kind;
      name = `${view ? 'View' : 'Prepare'} ${key} on ${parent}`;
      expected = parentState === undefined ? Code.NOT_FOUND : parentState !== 'committed' ? Code.INVALID_ARGUMENT : this.snapshots.has(key) ? Code.ALREADY_EXISTS : Code.OK;
      call = () => this.snapshotCall(view ? 'View' : 'Prepare', { key, parent, labels: { client: String(this.id) } });
      apply = () => void this.snapshots.set(key, { kind: view ? 'view' : 'active', parent, labels: { client: String(this.id) } });
    } else if (roll < 0.3) {
      const key = this.chance(0.1) ? (this.pick(this.keys('view')) ?? unknown) : (this.pick(this.keys('active')) ?? unknown);
      const target = this.chance(0.1) ? (this.pick(this.keys('committed')) ?? this.fresh()) : this.fresh();
      const state = this.snapshots.get(key);
      name = `Commit ${key} as ${target}`;
      // The key first, as containerd's metadata layer in front of a proxy: then the name, then the kind.
      expected = !state ? Code.NOT_FOUND : this.snapshots.has(target) ? Code.ALREADY_EXISTS : state.kind !== 'active' ? Code.FAILED_PRECONDITION : Code.OK;
      call = () => this.snapshotCall('Commit', { key, name: target, labels: { committed: 'yes' } });
      apply = () => {
        const parent = (state as ModelSnapshot).parent;
        this.snapshots.delete(key);
        this.snapshots.set(target, { kind: 'committed', parent, labels: { committed: 'yes' } });
      };
    } else if (roll < 0.42) {
      const key = this.chance(0.05) ? unknown : (this.pick(this.keys()) ?? unknown);
      name = `Remove ${key}`;
      expected = !this.snapshots.has(key) ? Code.NOT_FOUND : this.hasChildren(key) ? Code.FAILED_PRECONDITION : Code.OK;
      call = () => this.snapshotCall('Remove', { key });
      apply = () => void this.snapshots.delete(key);
    } else if (roll < 0.5) {
      const key = this.chance(0.1) ? unknown : (this.pick(this.keys()) ?? unknown);
      const state = this.snapshots.get(key);
      const mounts = this.chance(0.5);
      name = `${mounts ? 'Mounts' : 'Stat'} ${key}`;
      expected = !state ? Code.NOT_FOUND : mounts && state.kind === 'committed' ? Code.FAILED_PRECONDITION : Code.OK;
      call = () => this.snapshotCall(mounts ? 'Mounts' : 'Stat', { key });
    } else if (roll < 0.56) {
      const key = this.pick(this.keys()) ?? unknown;
      const value = String(this.serial++);
      name = `Update ${key}`;
      expected = this.snapshots.has(key) ? Code.OK : Code.NOT_FOUND;
      call = () => this.snapshotCall('Update', { info: { name: key, labels: { touched: value } }, update_mask: { paths: ['labels.touched'] } });
      apply = () => void ((this.snapshots.get(key) as ModelSnapshot).labels.touched = value);
    } else if (roll < 0.68) {
      const data = Buffer.from(`client ${this.id} blob ${this.serial++} `.repeat(1 + Math.floor(this.next() * 5000)));
      name = `Write ${sha256(data)}`;
      expected = Code.OK;
      call = () => writeBlob(this.s.client.content, data, { ref: `c${this.id}-ingest`, labels: { client: String(this.id) } });
      apply = () => void this.blobs.set(sha256(data), { data, labels: { client: String(this.id) } });
    } else if (roll < 0.76) {
      const digest = this.chance(0.1) ? sha256(`c${this.id}-missing`) : (this.pick([...this.blobs.keys()]) ?? sha256('none'));
      name = `Delete ${digest}`;
      expected = this.blobs.has(digest) ? Code.OK : Code.NOT_FOUND;
      call = () => unaryCall(this.s.client.content, 'Delete', { digest });
      apply = () => void this.blobs.delete(digest);
    } else if (roll < 0.86) {
      const digest = this.chance(0.1) ? sha256(`c${this.id}-missing`) : (this.pick([...this.blobs.keys()]) ?? sha256('none'));
      const blob = this.blobs.get(digest);
      name = `Read ${digest}`;
      expected = blob ? Code.OK : Code.NOT_FOUND;
      call = async () => {
        const data = await readBlob(this.s.client.content, digest);
        assert.ok(blob && data.equals(blob.data), `${name}: other bytes came back`);
      };
    } else if (roll < 0.9) {
      const digest = this.pick([...this.blobs.keys()]) ?? sha256('none');
      const value = String(this.serial++);
      name = `Update blob ${digest}`;
      expected = this.blobs.has(digest) ? Code.OK : Code.NOT_FOUND;
      call = () => unaryCall(this.s.client.content, 'Update', { info: { digest, labels: { touched: value } }, update_mask: { paths: ['labels.touched'] } });
      apply = () => {
        (this.blobs.get(digest) as { labels: Record<string, string> }).labels.touched = value;
      };
    } else {
      const key = this.pick(this.keys('active'));
      const layer = this.pick(this.layers) as Layer;
      if (key === undefined) return this.step();
      name = `Apply ${layer.descriptor.digest} into ${key}`;
      expected = Code.OK;
      call = async () => {
        const mounts = (await unaryCall<object, { mounts: object[] }>(this.s.client.snapshots, 'Mounts', { snapshotter: 'strata', key })).mounts;
        const applied = await applyLayer(this.s.client.diff, layer.descriptor, mounts as never);
        assert.equal(applied.digest, layer.diffId, `${name}: diff ID`);
      };
    }
    const code = await codeOf(call());
    this.log.push(`${name}: ${Code[code]}`);
    assert.equal(code, expected, `client ${this.id}: ${name} ended ${Code[code]}, not ${Code[expected]}; before it:\n${this.log.slice(-20, -1).join('\n')}`);
    if (code === Code.OK) apply();
  }
}

describe('load: 8 clients, mixed operations, checked against a model', { timeout: 600_000 }, () => {
  const { server: s } = suiteServer('load', { base: true });

  it(`${CLIENTS} clients × ${OPERATIONS} operations`, async (t) => {
    const layers: Layer[] = [];
    for (let i = 0; i < 3; i++) {
      const tar = await rawTar([dir(`layer-${i}`), file(`layer-${i}/data`, Buffer.alloc(10_000 * (i + 1), i)), symlink(`layer-${i}/link`, 'data')]);
      const blob = gzip(tar);
      const digest = await writeBlob(s().client.content, blob);
      layers.push({ descriptor: { media_type: GZIP_LAYER, digest, size: blob.length }, diffId: sha256(tar) });
    }
    // A warm-up first, by clients of their own: V8's code and heap, and
    // SQLite's cache, settle within a few thousand calls.
    const warmUp = Array.from({ length: CLIENTS }, (_, i) => new Client(s(), CLIENTS + i, layers));
    await Promise.all(warmUp.map(async (client) => {
      for (let op = 0; op < OPERATIONS / 2; op++) await client.step();
    }));
    const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(s(), i, layers));
    const total = CLIENTS * OPERATIONS;
    let done = 0;
    const rss: number[] = [];
    await Promise.all(
      clients.map(async (client) => {
        for (let op = 0; op < OPERATIONS; op++) {
          await client.step();
          done++;
          if (done % (total / 100) === 0) rss.push(rssBytes(s().strata.pid));
        }
      }),
    );
    clients.push(...warmUp);
    // The mean resident size of each tenth of the run, sampled a hundred times.
    const tenths = Array.from({ length: 10 }, (_, i) => rss.slice(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0) / 10);
    t.diagnostic(`RSS over each tenth, MiB: ${tenths.map((b) => Math.round(b / 2 ** 20)).join(' ')}`);

    // The server's state is the models' state.
    const list = async (client: grpc.Client, request: object) => {
      const call = (client as unknown as { List(r: object): AsyncIterable<{ info: Record<string, unknown>[] }> }).List(request);
      const items: Record<string, unknown>[] = [];
      for await (const page of call) items.push(...page.info);
      return items;
    };
    const kinds: Record<string, Kind> = { ACTIVE: 'active', VIEW: 'view', COMMITTED: 'committed' };
    const actualSnapshots = (await list(s().client.snapshots, { snapshotter: 'strata', filters: [] }))
      .map((i) => JSON.stringify([i.name, kinds[i.kind as string], i.parent, i.labels]))
      .sort();
    const expectedSnapshots = [JSON.stringify(['base', 'committed', '', {}])];
    for (const client of clients) {
      for (const [key, v] of client.snapshots) expectedSnapshots.push(JSON.stringify([key, v.kind, v.parent, v.labels]));
    }
    assert.deepEqual(actualSnapshots, expectedSnapshots.sort());
    const actualBlobs = (await list(s().client.content, { filters: [] })).map((i) => JSON.stringify([i.digest, i.labels])).sort();
    const expectedBlobs = layers.map((l) => JSON.stringify([l.descriptor.digest, {}]));
    for (const client of clients) for (const [digest, b] of client.blobs) expectedBlobs.push(JSON.stringify([digest, b.labels]));
    assert.deepEqual(actualBlobs, expectedBlobs.sort());
    const { statuses } = await unaryCall<object, { statuses: unknown[] }>(s().client.content, 'ListStatuses', { filters: [] });
    assert.deepEqual(statuses, []);

    // Flat: the last tenth within 10 % of the first.
    const [first, last] = [tenths[0], tenths[9]];
    assert.ok(last <= first * 1.1, `RSS grew from ${Math.round(first / 2 ** 20)} to ${Math.round(last / 2 ** 20)} MiB`);
  });
});
