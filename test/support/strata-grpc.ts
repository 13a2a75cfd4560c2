// Talking to strata's socket directly, the way containerd 1.7+ does: blobs
// written through the Content service's Write stream, snapshots through the
// Snapshots service, layers through the Diff service. Also mounting what the
// Snapshots service returns, and running cleanup steps in order.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { connect, unaryCall, type StrataClient } from '../../src/client/connect';
import type { ReadResponse, WriteRequest, WriteResponse } from '../../src/client/content-messages';
import { startStrata, type Strata, type StrataBackend } from '../../native-bench/harness/strata';

const execFileAsync = promisify(execFile);

const MiB = 1024 * 1024;

/** The name containerd would give the proxy snapshotter; strata accepts and ignores it. */
const SNAPSHOTTER = 'strata';

export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';

/** containerd.types.Mount as the proto loader hands it over (snake_case). */
export interface WireMount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

/** containerd.types.Descriptor on the wire. */
export interface WireDescriptor {
  media_type: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ContentInfo {
  digest: string;
  size: number;
  labels: Record<string, string>;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The gRPC status code of an error from a call, or undefined when it is not a gRPC error. */
export function grpcCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') return error.code;
  return undefined;
}

/**
 * One request, then wait for its one response, over a bidi stream: what
 * containerd's remote content writer does.
 */
function lockstep(call: grpc.ClientDuplexStream<WriteRequest, WriteResponse>): (request: WriteRequest) => Promise<WriteResponse> {
  const replies = call[Symbol.asyncIterator]() as AsyncIterator<WriteResponse>;
  return async (request) => {
    call.write(request);
    const next = await replies.next();
    if (next.done) throw new Error(`Write stream ended before answering ${request.action}`);
    return next.value;
  };
}

export interface WriteBlobOptions {
  /** Ingest reference; by default one derived from the digest. */
  ref?: string;
  labels?: Record<string, string>;
}

/**
 * Writes `data` into strata's content store through the Write stream: STAT,
 * WRITE chunks of at most 1 MiB (each answered before the next), COMMIT with
 * the expected digest. A blob that is already there counts as written, as
 * with containerd's content.WriteBlob. Returns the digest.
 */
export async function writeBlob(content: grpc.Client, data: Buffer, options: WriteBlobOptions = {}): Promise<string> {
  const digest = sha256(data);
  const ref = options.ref ?? `strata-e2e-upload-${digest}`;
  const call = (content as unknown as { Write(): grpc.ClientDuplexStream<WriteRequest, WriteResponse> }).Write();
  const exchange = lockstep(call);
  try {
    const status = await exchange({ action: 'STAT', ref, total: data.length, expected: digest });
    let offset = status.offset;
    if (offset > data.length) offset = 0;
    while (offset < data.length) {
      const chunk = data.subarray(offset, offset + MiB);
      const reply = await exchange({ action: 'WRITE', offset, data: chunk });
      assert.equal(reply.offset, offset + chunk.length, `Write of ${ref} at ${offset} answered offset ${reply.offset}`);
      offset = reply.offset;
    }
    const committed = await exchange({ action: 'COMMIT', offset, total: data.length, expected: digest, labels: options.labels ?? {} });
    assert.equal(committed.digest, digest, `COMMIT of ${ref} answered digest ${committed.digest}`);
    call.end();
    return digest;
  } catch (error) {
    call.cancel();
    if (grpcCode(error) === 6 /* ALREADY_EXISTS */) return digest;
    throw error;
  }
}

/** The whole blob, through the Read stream, checking that offsets follow on. */
export async function readBlob(content: grpc.Client, digest: string): Promise<Buffer> {
  const call = (content as unknown as {
    Read(request: object): grpc.ClientReadableStream<ReadResponse>;
  }).Read({ digest, offset: 0, size: 0 });
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const message of call as AsyncIterable<ReadResponse>) {
    assert.equal(message.offset, length, `Read of ${digest}: chunk at ${message.offset}, expected ${length}`);
    chunks.push(message.data);
    length += message.data.length;
  }
  return Buffer.concat(chunks);
}

export async function contentInfo(content: grpc.Client, digest: string): Promise<ContentInfo> {
  const { info } = await unaryCall<object, { info: ContentInfo }>(content, 'Info', { digest });
  return info;
}

/** The Snapshots service, as a snapshotter proxy would call it. */
export class SnapshotsClient {
  constructor(private readonly client: grpc.Client) {}

  async prepare(key: string, parent = '', labels: Record<string, string> = {}): Promise<WireMount[]> {
    const response = await unaryCall<object, { mounts: WireMount[] }>(this.client, 'Prepare', { snapshotter: SNAPSHOTTER, key, parent, labels });
    return response.mounts;
  }

  async view(key: string, parent: string): Promise<WireMount[]> {
    const response = await unaryCall<object, { mounts: WireMount[] }>(this.client, 'View', { snapshotter: SNAPSHOTTER, key, parent, labels: {} });
    return response.mounts;
  }

  async mounts(key: string): Promise<WireMount[]> {
    const response = await unaryCall<object, { mounts: WireMount[] }>(this.client, 'Mounts', { snapshotter: SNAPSHOTTER, key });
    return response.mounts;
  }

  /** `parent` is containerd 2.2's rebase of a snapshot prepared without one. */
  async commit(name: string, key: string, labels: Record<string, string> = {}, parent = ''): Promise<void> {
    await unaryCall(this.client, 'Commit', { snapshotter: SNAPSHOTTER, name, key, labels, parent });
  }

  async stat(key: string): Promise<{ name: string; parent: string; kind: string; labels: Record<string, string> }> {
    const response = await unaryCall<object, { info: { name: string; parent: string; kind: string; labels: Record<string, string> } }>(this.client, 'Stat', { snapshotter: SNAPSHOTTER, key });
    return response.info;
  }

  async remove(key: string): Promise<void> {
    await unaryCall(this.client, 'Remove', { snapshotter: SNAPSHOTTER, key });
  }

  /** List (containerd's Walk) with filters, in the server's order. */
  async walk(filters: string[]): Promise<{ name: string; parent: string; kind: string; labels: Record<string, string> }[]> {
    const call = (this.client as unknown as { List(r: object): AsyncIterable<{ info: { name: string; parent: string; kind: string; labels: Record<string, string> }[] }> }).List({ snapshotter: SNAPSHOTTER, filters });
    const infos = [];
    for await (const page of call) infos.push(...page.info);
    return infos;
  }
}

export interface ApplyCall {
  /** The applied (uncompressed) descriptor. */
  result: Promise<WireDescriptor>;
  /** Cancels the call, as a client that gives up does. */
  cancel(): void;
}

/** Starts the Diff service's Apply. */
export function startApply(diff: grpc.Client, layer: WireDescriptor, mounts: WireMount[], syncFs = false): ApplyCall {
  type Apply = (request: object, callback: (err: grpc.ServiceError | null, res: { applied: WireDescriptor | null }) => void) => grpc.ClientUnaryCall;
  let call: grpc.ClientUnaryCall | undefined;
  const result = new Promise<WireDescriptor>((resolve, reject) => {
    const request = { diff: { annotations: {}, ...layer }, mounts, payloads: {}, sync_fs: syncFs };
    call = (diff as unknown as { Apply: Apply }).Apply(request, (err, response) => {
      if (err) return reject(err);
      if (!response.applied) return reject(new Error('Apply answered without an applied descriptor'));
      resolve(response.applied);
    });
  });
  return { result, cancel: () => call?.cancel() };
}

/** The Diff service's Apply; resolves with the applied (uncompressed) descriptor. */
export function applyLayer(diff: grpc.Client, layer: WireDescriptor, mounts: WireMount[], syncFs = false): Promise<WireDescriptor> {
  return startApply(diff, layer, mounts, syncFs).result;
}

/**
 * Mounts what the Snapshots service returned on `target`, each mount with
 * mount(8): `mount -t TYPE -o OPTIONS SOURCE TARGET`.
 */
export async function mountAll(mounts: WireMount[], target: string): Promise<void> {
  if (mounts.length === 0) throw new Error('no mounts to mount');
  await fs.promises.mkdir(target, { recursive: true });
  for (const mount of mounts) {
    const options = mount.options.length === 0 ? [] : ['-o', mount.options.join(',')];
    try {
      await execFileAsync('mount', ['-t', mount.type, ...options, mount.source, target]);
    } catch (error) {
      const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
      throw new Error(`mount ${JSON.stringify(mount)} on ${target} failed: ${stderr}`);
    }
  }
}

/**
 * The directory that holds what a snapshot itself wrote: an overlay mount's
 * upperdir, or a bind mount's source.
 */
export function writableDirOf(mounts: WireMount[]): string {
  assert.equal(mounts.length, 1, `expected one mount, got ${JSON.stringify(mounts)}`);
  const [mount] = mounts;
  if (mount.type === 'overlay') {
    const upper = mount.options.find((option) => option.startsWith('upperdir='));
    assert.ok(upper, `overlay mount without upperdir: ${JSON.stringify(mount)}`);
    return upper.slice('upperdir='.length);
  }
  assert.equal(mount.type, 'bind', `unexpected mount type in ${JSON.stringify(mount)}`);
  return mount.source;
}

export interface StrataServer {
  strata: Strata;
  client: StrataClient;
  snapshots: SnapshotsClient;
  root: string;
  address: string;
  logFile: string;
  /** Closes the client and stops the server (asserting a clean exit). */
  stop(): Promise<void>;
}

/**
 * Starts strata with its root, socket and log under `dir`, named after
 * `name`, and connects to it; `config` is the text of a config file.
 */
export async function startStrataServer(dir: string, name: string, backend: StrataBackend, config?: string): Promise<StrataServer> {
  const root = path.join(dir, `${name}-root`);
  await fs.promises.mkdir(root, { recursive: true });
  const address = path.join(dir, `${name}.sock`);
  const logFile = path.join(dir, `${name}.log`);
  let configFile: string | undefined;
  if (config !== undefined) {
    configFile = path.join(dir, `${name}.toml`);
    await fs.promises.writeFile(configFile, config);
  }
  const strata = await startStrata({ root, address, backend, logFile, configFile });
  const client = connect(address);
  let stopped = false;
  return {
    strata,
    client,
    snapshots: new SnapshotsClient(client.snapshots),
    root,
    address,
    logFile,
    async stop() {
      if (stopped) return;
      stopped = true;
      client.close();
      await strata.stop();
    },
  };
}

/** The end of a strata log, for failure messages. */
export function logTail(logFile: string, lines = 30): string {
  try {
    return fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs a strata call; a failure carries the end of the server's log, and the call's code. */
export async function withLog<T>(server: StrataServer, what: string, call: () => Promise<T>, logLines = 30): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(`${what} failed: ${message}\n--- strata log ---\n${logTail(server.logFile, logLines)}`);
    throw Object.assign(wrapped, { code: (error as { code?: unknown }).code });
  }
}

/**
 * Cleanup steps, run last-registered first; every step runs even when an
 * earlier one fails, and the first failure is thrown at the end.
 */
export class Cleanup {
  private readonly steps: { label: string; step: () => Promise<void> }[] = [];

  defer(label: string, step: () => Promise<void>): void {
    this.steps.push({ label, step });
  }

  async run(): Promise<void> {
    const failures: unknown[] = [];
    while (this.steps.length > 0) {
      const { label, step } = this.steps.pop() as { label: string; step: () => Promise<void> };
      try {
        await step();
      } catch (error) {
        failures.push(new Error(`cleanup "${label}" failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}

/** Every snapshot name, or every blob digest, strata holds, sorted, from its own List. */
export async function listAll(client: StrataClient, service: 'snapshots' | 'content'): Promise<string[]> {
  const request = service === 'snapshots' ? { snapshotter: 'strata', filters: [] } : { filters: [] };
  const call = (client[service] as unknown as { List(r: object): AsyncIterable<{ info: { name?: string; digest?: string }[] }> }).List(request);
  const names: string[] = [];
  for await (const page of call) names.push(...page.info.map((i) => (i.name ?? i.digest) as string));
  return names.sort();
}
