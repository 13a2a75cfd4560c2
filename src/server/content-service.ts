// gRPC wiring for containerd.services.content.v1.Content. The Write loop
// follows containerd's content server message for message.
import type * as grpc from '@grpc/grpc-js';
import type { Metrics } from '../metrics/metrics';
import { readInChunks } from '../content/range-chunks';
import { ReadBudget } from '../content/read-budget';
import { READ_CHUNK, type ContentStore } from '../content/store';
import type { ContentInfo, IngestStatus } from '../content/types';
import { alreadyExists, invalidArgument, outOfRange } from '../errdefs';
import type { Labels } from '../metadata/label-table';
import { maskPaths, sendInBatches, toTimestamp, type FieldMask, type Timestamp } from './convert';
import { bidiStream, serverStream, unary, type Send } from './handlers';
import { encodeReadResponse, READ_RESPONSE_HEADROOM, type PreEncoded } from './read-response';

/** 32 Reads' worth of large chunks (two buffers each) at once; the rest read in containerd's 32 KiB. */
const LARGE_READ_BYTES = 64 << 20;
const SMALL_READ_CHUNK = 32 << 10;

interface WireInfo {
  digest: string;
  size: number;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  labels: Labels;
}

interface WireStatus {
  started_at: Timestamp;
  updated_at: Timestamp;
  ref: string;
  offset: number;
  total: number;
  expected: string;
}

type WriteAction = 'STAT' | 'WRITE' | 'COMMIT';

interface WriteRequest {
  action: WriteAction;
  ref: string;
  total: number;
  expected: string;
  offset: number;
  data: Buffer;
  labels: Labels;
}

interface WriteResponse {
  action: WriteAction;
  started_at?: Timestamp;
  updated_at?: Timestamp;
  offset: number;
  total?: number;
  digest?: string;
}

function toWireInfo(info: ContentInfo): WireInfo {
  return {
    digest: info.digest,
    size: info.size,
    created_at: toTimestamp(info.created),
    updated_at: toTimestamp(info.updated),
    labels: info.labels,
  };
}

function toWireStatus(status: IngestStatus): WireStatus {
  return {
    started_at: toTimestamp(status.started),
    updated_at: toTimestamp(status.updated),
    ref: status.ref,
    offset: status.offset,
    total: status.total,
    expected: status.expected,
  };
}

async function write(store: ContentStore, requests: AsyncIterator<WriteRequest>, send: Send<WriteResponse>, metrics: Metrics | undefined) {
  let next = await requests.next();
  if (next.done) return;
  let req = next.value;
  const ref = req.ref;
  if (ref === '') throw invalidArgument('first message must have a reference');
  let total = req.total;
  let expected = req.expected;
  const writer = await store.openWriter(ref, total, expected);
  try {
    for (;;) {
      const response: WriteResponse = { action: req.action, offset: writer.status().offset };
      if (req.expected !== '') {
        expected = req.expected;
        if (store.exists(expected)) {
          await writer.discard();
          throw alreadyExists(`blob with expected digest ${expected} exists`);
        }
      }
      if (req.total > 0) total = req.total;
      writer.expect(total, expected);
      if (req.action === 'STAT') {
        const status = writer.status();
        Object.assign(response, {
          digest: writer.digest(),
          started_at: toTimestamp(status.started),
          updated_at: toTimestamp(status.updated),
          total,
        });
      } else {
        if (req.offset > 0 && req.offset !== response.offset) {
          throw outOfRange(`write @${req.offset} must occur at current offset ${response.offset}`);
        }
        if (req.offset === 0 && response.offset > 0) {
          await writer.truncate();
          response.offset = 0;
        }
        if (req.data.length > 0) {
          await writer.write(req.data);
          metrics?.ingestedBytes.inc(req.data.length);
          response.offset += req.data.length;
        }
        response.digest = req.action === 'COMMIT' ? await writer.commit(total, expected, req.labels) : writer.digest();
      }
      await send(response);
      if (req.action === 'COMMIT') return;
      next = await requests.next();
      if (next.done) {
        // The client closed its side: a writer opened next for this ref may wait for us.
        writer.closing();
        return;
      }
      req = next.value;
    }
  } finally {
    await writer.close();
  }
}

export function contentHandlers(store: ContentStore, metrics: Metrics | undefined): grpc.UntypedServiceImplementation {
  const method = (name: string) => `/containerd.services.content.v1.Content/${name}`;
  const largeReads = new ReadBudget(LARGE_READ_BYTES);
  return {
    Info: unary(method('Info'), async (req: { digest: string }) => ({
      info: toWireInfo(await store.info(req.digest)),
    })),
    Update: unary(method('Update'), async (req: { info: WireInfo | null; update_mask: FieldMask | null }) => {
      if (!req.info) throw invalidArgument('update: info is required');
      // Only labels are mutable; naming digest, size or created in the mask is InvalidArgument.
      return { info: toWireInfo(await store.update(req.info.digest, req.info.labels, maskPaths(req.update_mask))) };
    }),
    List: serverStream(method('List'), async (req: { filters: string[] }, send) => {
      await sendInBatches(await store.list(req.filters), toWireInfo, (info) => send({ info }));
    }),
    Delete: unary(method('Delete'), async (req: { digest: string }) => {
      await store.delete(req.digest);
      return {};
    }),
    Read: serverStream(method('Read'), async (req: { digest: string; offset: number; size: number }, send: Send<PreEncoded>) => {
      const range = await store.openRange(req.digest, req.offset, req.size);
      // Each chunk's buffer is read into again once its message is written.
      await readInChunks(range, { chunkSize: READ_CHUNK, headroom: READ_RESPONSE_HEADROOM, budget: { large: largeReads, smallChunkSize: SMALL_READ_CHUNK } }, (chunk) =>
        send.written(encodeReadResponse(chunk)).then(() => metrics?.readBytes.inc(chunk.length)),
      );
    }),
    Status: unary(method('Status'), async (req: { ref: string }) => ({
      status: toWireStatus(await store.status(req.ref)),
    })),
    ListStatuses: unary(method('ListStatuses'), async (req: { filters: string[] }) => ({
      statuses: (await store.listStatuses(req.filters)).map(toWireStatus),
    })),
    Write: bidiStream(method('Write'), async (requests: AsyncIterator<WriteRequest>, send) => {
      metrics?.ingestsInFlight.inc();
      try {
        await write(store, requests, send, metrics);
      } finally {
        metrics?.ingestsInFlight.dec();
      }
    }),
    Abort: unary(method('Abort'), async (req: { ref: string }) => {
      await store.abort(req.ref);
      return {};
    }),
  };
}
