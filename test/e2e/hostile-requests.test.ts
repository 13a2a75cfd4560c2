// Bad requests to every service: each gets the gRPC code containerd's own
// service gives (the README's table lists them), and nothing stored changes.
// The store's whole state, snapshots and blobs with their labels and open
// ingests, is compared before and after every case. A failed Write keeps
// its own ingest, as containerd's does, for the client to resume or abort.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import type { ReadResponse, WriteRequest, WriteResponse } from '../../src/client/content-messages';
import { rawTar, gzip } from '../support/malicious-layers';
import { grpcCode, sha256, startStrataServer, writeBlob, type StrataServer } from '../support/strata-grpc';
import { file } from '../support/tar-entries';
import { tearDown } from '../support/teardown';

const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const BLOB = Buffer.from('a blob already in the store\n');
const BIG_LABEL = { big: 'v'.repeat(4094) };

interface Case {
  name: string;
  code: Code;
  call(s: StrataServer): Promise<unknown>;
  /** The ingest the case itself opens, which may stay. */
  ref?: string;
}

function snapshots(method: string, request: object): (s: StrataServer) => Promise<unknown> {
  return (s) => unaryCall(s.client.snapshots, method, { snapshotter: 'strata', ...request });
}

function content(method: string, request: object): (s: StrataServer) => Promise<unknown> {
  return (s) => unaryCall(s.client.content, method, request);
}

/** Reads a whole Read stream; resolves with the bytes, or rejects with the stream's status. */
async function read(s: StrataServer, request: object): Promise<Buffer> {
  const call = (s.client.content as unknown as { Read(r: object): grpc.ClientReadableStream<ReadResponse> }).Read(request);
  const chunks: Buffer[] = [];
  for await (const message of call as AsyncIterable<ReadResponse>) chunks.push(message.data);
  return Buffer.concat(chunks);
}

/** Sends `requests` on one Write stream in lockstep; rejects with the first error status. */
async function write(s: StrataServer, requests: WriteRequest[]): Promise<WriteResponse[]> {
  const call = (s.client.content as unknown as { Write(): grpc.ClientDuplexStream<WriteRequest, WriteResponse> }).Write();
  const replies = call[Symbol.asyncIterator]() as AsyncIterator<WriteResponse>;
  const answers: WriteResponse[] = [];
  try {
    for (const request of requests) {
      call.write(request);
      const next = await replies.next();
      if (next.done) throw new Error(`the Write stream ended before answering ${request.action}`);
      answers.push(next.value);
    }
    return answers;
  } finally {
    call.cancel();
  }
}

const data = Buffer.from('twelve bytes');

const CASES: Case[] = [
  { name: 'Prepare with an empty key', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: '', parent: '' }) },
  { name: 'Prepare with a key over 4 KiB', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'k'.repeat(4097), parent: '' }) },
  { name: 'Prepare with a NUL in the key', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'a\0b', parent: '' }) },
  { name: 'Prepare with a key that exists', code: Code.ALREADY_EXISTS, call: snapshots('Prepare', { key: 'active', parent: 'base' }) },
  { name: 'Prepare with an unknown parent', code: Code.NOT_FOUND, call: snapshots('Prepare', { key: 'new', parent: 'nope' }) },
  { name: 'Prepare on an active parent', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'new', parent: 'active' }) },
  { name: 'Prepare on a view', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'new', parent: 'view' }) },
  { name: 'Prepare with a label over 4096 bytes', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'new', parent: '', labels: BIG_LABEL }) },
  { name: 'Prepare with an empty label key', code: Code.INVALID_ARGUMENT, call: snapshots('Prepare', { key: 'new', parent: '', labels: { '': 'v' } }) },
  { name: 'View with an unknown parent', code: Code.NOT_FOUND, call: snapshots('View', { key: 'new', parent: 'nope' }) },
  { name: 'View on an active parent', code: Code.INVALID_ARGUMENT, call: snapshots('View', { key: 'new', parent: 'active' }) },
  { name: 'Mounts of an unknown key', code: Code.NOT_FOUND, call: snapshots('Mounts', { key: 'nope' }) },
  { name: 'Mounts of a committed snapshot', code: Code.FAILED_PRECONDITION, call: snapshots('Mounts', { key: 'base' }) },
  { name: 'Commit of an unknown key', code: Code.NOT_FOUND, call: snapshots('Commit', { name: 'new', key: 'nope' }) },
  { name: 'Commit of a committed snapshot', code: Code.FAILED_PRECONDITION, call: snapshots('Commit', { name: 'new', key: 'base' }) },
  { name: 'Commit of a view', code: Code.FAILED_PRECONDITION, call: snapshots('Commit', { name: 'new', key: 'view' }) },
  { name: 'Commit to a name that exists', code: Code.ALREADY_EXISTS, call: snapshots('Commit', { name: 'base', key: 'active' }) },
  { name: 'Commit with a label over 4096 bytes', code: Code.INVALID_ARGUMENT, call: snapshots('Commit', { name: 'new', key: 'active', labels: BIG_LABEL }) },
  { name: 'Commit with an empty name', code: Code.INVALID_ARGUMENT, call: snapshots('Commit', { name: '', key: 'active' }) },
  { name: 'Stat of an unknown key', code: Code.NOT_FOUND, call: snapshots('Stat', { key: 'nope' }) },
  { name: 'Stat of an empty key', code: Code.INVALID_ARGUMENT, call: snapshots('Stat', { key: '' }) },
  { name: 'Usage of an unknown key', code: Code.NOT_FOUND, call: snapshots('Usage', { key: 'nope' }) },
  { name: 'Update of an unknown snapshot', code: Code.NOT_FOUND, call: snapshots('Update', { info: { name: 'nope', labels: { a: 'b' } }, update_mask: { paths: ['labels'] } }) },
  { name: 'Update of the parent field', code: Code.INVALID_ARGUMENT, call: snapshots('Update', { info: { name: 'base', parent: 'x' }, update_mask: { paths: ['parent'] } }) },
  { name: 'Update of an unknown field', code: Code.INVALID_ARGUMENT, call: snapshots('Update', { info: { name: 'base' }, update_mask: { paths: ['labels.a', 'color'] } }) },
  { name: 'Update with a label over 4096 bytes', code: Code.INVALID_ARGUMENT, call: snapshots('Update', { info: { name: 'base', labels: BIG_LABEL }, update_mask: { paths: ['labels.big'] } }) },
  { name: 'Remove of an unknown key', code: Code.NOT_FOUND, call: snapshots('Remove', { key: 'nope' }) },
  { name: 'Remove of a snapshot with children', code: Code.FAILED_PRECONDITION, call: snapshots('Remove', { key: 'base' }) },

  { name: 'Info of a malformed digest', code: Code.INVALID_ARGUMENT, call: content('Info', { digest: 'sha256:xyz' }) },
  { name: 'Info of a digest of another algorithm', code: Code.INVALID_ARGUMENT, call: content('Info', { digest: `md5:${'0'.repeat(32)}` }) },
  { name: 'Info of an unknown blob', code: Code.NOT_FOUND, call: content('Info', { digest: sha256('nothing') }) },
  { name: 'Delete of an unknown blob', code: Code.NOT_FOUND, call: content('Delete', { digest: sha256('nothing') }) },
  { name: 'Delete of a malformed digest', code: Code.INVALID_ARGUMENT, call: content('Delete', { digest: '../../metadata.db' }) },
  { name: 'Update of an unknown blob', code: Code.NOT_FOUND, call: content('Update', { info: { digest: sha256('nothing'), labels: { a: 'b' } }, update_mask: { paths: ['labels'] } }) },
  { name: 'Update of a blob field other than labels', code: Code.INVALID_ARGUMENT, call: content('Update', { info: { digest: sha256(BLOB), size: 1 }, update_mask: { paths: ['size'] } }) },
  { name: 'Update of a blob with a label over 4096 bytes', code: Code.INVALID_ARGUMENT, call: content('Update', { info: { digest: sha256(BLOB), labels: BIG_LABEL }, update_mask: { paths: ['labels.big'] } }) },
  { name: 'Read of an unknown blob', code: Code.NOT_FOUND, call: (s) => read(s, { digest: sha256('nothing') }) },
  { name: 'Read of a malformed digest', code: Code.INVALID_ARGUMENT, call: (s) => read(s, { digest: 'sha256:../../x' }) },
  { name: 'Read past the end', code: Code.OUT_OF_RANGE, call: (s) => read(s, { digest: sha256(BLOB), offset: BLOB.length + 1 }) },
  { name: 'Status of an unknown ref', code: Code.NOT_FOUND, call: content('Status', { ref: 'nope' }) },
  { name: 'Abort of an unknown ref', code: Code.NOT_FOUND, call: content('Abort', { ref: 'nope' }) },
  { name: 'Write without a ref', code: Code.INVALID_ARGUMENT, call: (s) => write(s, [{ action: 'STAT', ref: '' }]) },
  {
    name: 'Write at an offset past the current one',
    code: Code.OUT_OF_RANGE,
    ref: 'w-offset',
    call: (s) => write(s, [{ action: 'STAT', ref: 'w-offset' }, { action: 'WRITE', offset: 5, data }]),
  },
  {
    name: 'Commit with a digest that does not match',
    code: Code.FAILED_PRECONDITION,
    ref: 'w-digest',
    call: (s) => write(s, [{ action: 'STAT', ref: 'w-digest' }, { action: 'WRITE', offset: 0, data }, { action: 'COMMIT', offset: data.length, total: data.length, expected: sha256('other') }]),
  },
  {
    name: 'Commit of more bytes than the declared total',
    code: Code.FAILED_PRECONDITION,
    ref: 'w-total',
    call: (s) => write(s, [{ action: 'STAT', ref: 'w-total', total: 4 }, { action: 'WRITE', offset: 0, data }, { action: 'COMMIT', offset: data.length, expected: sha256(data) }]),
  },
  {
    name: 'Commit of a blob that exists',
    code: Code.ALREADY_EXISTS,
    ref: 'w-exists',
    call: (s) => write(s, [{ action: 'STAT', ref: 'w-exists' }, { action: 'WRITE', offset: 0, data: BLOB }, { action: 'COMMIT', offset: BLOB.length, expected: sha256(BLOB) }]),
  },
  {
    name: 'Commit with a label over 4096 bytes',
    code: Code.INVALID_ARGUMENT,
    ref: 'w-label',
    call: (s) => write(s, [{ action: 'STAT', ref: 'w-label' }, { action: 'WRITE', offset: 0, data }, { action: 'COMMIT', offset: data.length, expected: sha256(data), labels: BIG_LABEL }]),
  },
  {
    name: 'Write by a second writer on the same ref',
    code: Code.UNAVAILABLE,
    ref: 'w-locked',
    async call(s) {
      const first = (s.client.content as unknown as { Write(): grpc.ClientDuplexStream<WriteRequest, WriteResponse> }).Write();
      const replies = first[Symbol.asyncIterator]() as AsyncIterator<WriteResponse>;
      first.write({ action: 'STAT', ref: 'w-locked' });
      await replies.next();
      try {
        return await write(s, [{ action: 'STAT', ref: 'w-locked' }]);
      } finally {
        first.cancel();
      }
    },
  },

  { name: 'Apply without a descriptor', code: Code.INVALID_ARGUMENT, call: (s) => unaryCall(s.client.diff, 'Apply', { mounts: [] }) },
  {
    name: 'Apply of an unknown blob',
    code: Code.NOT_FOUND,
    call: async (s) => unaryCall(s.client.diff, 'Apply', { diff: { media_type: GZIP_LAYER, digest: sha256('nothing'), size: 1 }, mounts: await activeMounts(s) }),
  },
  {
    name: 'Apply with no mounts',
    code: Code.INVALID_ARGUMENT,
    call: async (s) => unaryCall(s.client.diff, 'Apply', { diff: { media_type: GZIP_LAYER, digest: await layerDigest(s), size: 1 }, mounts: [] }),
  },
  {
    name: 'Apply with a mount type strata does not make',
    code: Code.INVALID_ARGUMENT,
    call: async (s) =>
      unaryCall(s.client.diff, 'Apply', { diff: { media_type: GZIP_LAYER, digest: await layerDigest(s), size: 1 }, mounts: [{ type: 'nfs', source: 'host:/x', options: [] }] }),
  },
  {
    name: "Apply into a bind of a directory outside strata's snapshots",
    code: Code.INVALID_ARGUMENT,
    call: async (s) => unaryCall(s.client.diff, 'Apply', { diff: { media_type: GZIP_LAYER, digest: await layerDigest(s), size: 1 }, mounts: [{ type: 'bind', source: '/tmp', options: ['rbind'] }] }),
  },
  {
    name: 'Apply into an overlay whose upper dir climbs out of the snapshots',
    code: Code.INVALID_ARGUMENT,
    async call(s) {
      const [overlay] = (await activeMounts(s)) as { type: string; source: string; options: string[] }[];
      const options = overlay.options.map((o) => (o.startsWith('upperdir=') ? `${o}/../../../../tmp` : o));
      return unaryCall(s.client.diff, 'Apply', { diff: { media_type: GZIP_LAYER, digest: await layerDigest(s), size: 1 }, mounts: [{ ...overlay, options }] });
    },
  },
  {
    name: 'Diff of the host root against an empty view',
    code: Code.INVALID_ARGUMENT,
    call: async (s) =>
      unaryCall(s.client.diff, 'Diff', { left: await s.snapshots.mounts('view'), right: [{ type: 'bind', source: '/etc', options: ['rbind', 'ro'] }], media_type: 'application/vnd.oci.image.layer.v1.tar' }),
  },
  { name: 'Diff with no mounts', code: Code.INVALID_ARGUMENT, call: (s) => unaryCall(s.client.diff, 'Diff', { left: [], right: [], media_type: 'application/vnd.oci.image.layer.v1.tar' }) },
];

let layer: Buffer | undefined;
async function layerDigest(s: StrataServer): Promise<string> {
  layer ??= gzip(await rawTar([file('hello', 'hello\n')]));
  return writeBlob(s.client.content, layer);
}

async function activeMounts(s: StrataServer): Promise<object[]> {
  return s.snapshots.mounts('active');
}

/** Everything the store holds that a client can see, in a stable order; `ownRef`'s ingest left out. */
async function storeState(s: StrataServer, ownRef?: string): Promise<string> {
  const list = async (client: grpc.Client, request: object, field: 'info' | 'statuses', method = 'List') => {
    const call = (client as unknown as Record<string, (r: object) => AsyncIterable<Record<string, object[]>>>)[method](request);
    const items: object[] = [];
    for await (const page of call) items.push(...page[field]);
    return items;
  };
  const snapshotList = (await list(s.client.snapshots, { snapshotter: 'strata', filters: [] }, 'info')).map((i) => {
    const { name, parent, kind, labels } = i as Record<string, unknown>;
    return { name, parent, kind, labels };
  });
  const blobs = (await list(s.client.content, { filters: [] }, 'info')).map((i) => {
    const { digest, size, labels } = i as Record<string, unknown>;
    return { digest, size: Number(size), labels };
  });
  const { statuses } = await unaryCall<object, { statuses: { ref: string; offset: number }[] }>(s.client.content, 'ListStatuses', { filters: [] });
  const ingests = statuses.filter(({ ref }) => ref !== ownRef).map(({ ref, offset }) => ({ ref, offset: Number(offset) }));
  const sorted = <T extends object>(items: T[]) => items.map((x) => JSON.stringify(x)).sort();
  return JSON.stringify({ snapshots: sorted(snapshotList), blobs: sorted(blobs), ingests: sorted(ingests) }, null, 1);
}

describe('bad requests get containerd codes, and change nothing', { timeout: 120_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-requests-'));
    server = await startStrataServer(workDir, 'strata', 'overlayfs');
    await server.snapshots.prepare('base-active');
    await server.snapshots.commit('base', 'base-active', { 'containerd.io/gc.root': 'x' });
    await server.snapshots.prepare('active', 'base');
    await server.snapshots.view('view', 'base');
    await writeBlob(server.client.content, BLOB, { labels: { kept: 'yes' } });
    await layerDigest(server);
  });

  after(() => tearDown(workDir, [() => server?.stop()]));

  for (const c of CASES) {
    it(`${c.name}: ${Code[c.code]}`, async () => {
      const s = server as StrataServer;
      const before = await storeState(s, c.ref);
      await assert.rejects(c.call(s), (err: Error) => {
        assert.equal(grpcCode(err), c.code, `${c.name}: ${err.message}`);
        return true;
      });
      assert.equal(await storeState(s, c.ref), before, `${c.name} changed what is stored`);
    });
  }

  it('Read at a negative offset reads from the start, as containerd', async () => {
    assert.deepEqual(await read(server as StrataServer, { digest: sha256(BLOB), offset: -5 }), BLOB);
  });

  it('a key with /../ is only a name: stored, listed and removed, with nothing outside the root', async () => {
    const s = server as StrataServer;
    const key = '../../../../escape/../../x';
    await s.snapshots.prepare(key, 'base');
    const { info } = await unaryCall<object, { info: { name: string } }>(s.client.snapshots, 'Stat', { snapshotter: 'strata', key });
    assert.equal(info.name, key);
    await s.snapshots.remove(key);
    assert.equal(fs.existsSync(path.join(workDir, 'escape')), false);
    assert.equal(fs.existsSync('/escape'), false);
    assert.equal(fs.existsSync('/x'), false);
  });
});
