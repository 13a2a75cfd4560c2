// The read-only OCI distribution endpoint over the content store, for
// containerd's hosts.toml as a pull mirror: /v2/, and blobs and manifests by
// digest (HEAD and GET, with Range). A digest this node lacks is fetched from
// a peer, verified, and served; otherwise 404, and containerd goes upstream.
import fs from 'node:fs';
import http from 'node:http';
import { buffer } from 'node:stream/consumers';
import type { Logger } from 'pino';
import { listenHttp, type HttpListener } from '../http-listener';
import { readInChunks } from '../content/range-chunks';
import type { ContentStore } from '../content/store';
import { isKind } from '../errdefs';
import type { Metrics } from '../metrics/metrics';
import { parseDistributionPath } from './distribution-request';
import { manifestMediaType } from './manifest-media-type';
import { fetchFromPeer } from './peer-fetch';
import { PEER_HEADER, type Peers } from './peers';

export interface MirrorOptions {
  /** host:port. */
  address: string;
  peers?: Peers;
  /** Blobs from peers are also written into the local store. */
  cache: boolean;
  /** Registries (containerd's ns=) or registry/repository prefixes served; empty is all. */
  registries: string[];
  /** Where blobs from peers wait while they are verified. */
  spoolDir: string;
}

const MIRROR_READ_BYTES = 64 * 1024;

/** Writes the bytes [start, end) of a blob through `write`, which resolves once each buffer is written. */
type Body = (start: number, end: number, write: (data: Buffer) => Promise<void>) => Promise<void>;

/** A manifest this large is not one: only so much is read to find its media type. */
const MANIFEST_SNIFF_BYTES = 4 << 20;

function sendError(response: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `${JSON.stringify({ errors: [{ code, message, detail: null }] })}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'docker-distribution-api-version': 'registry/2.0' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** One `bytes=a-b` range of a blob of `size` bytes: [start, end), or 'unsatisfiable'; undefined for the whole. */
function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'unsatisfiable';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  return start >= size || end <= start ? 'unsatisfiable' : [start, end];
}

function allowed(registries: string[], ns: string | null, name: string): boolean {
  if (registries.length === 0) return true;
  const full = `${ns ?? ''}/${name}`;
  return registries.some((entry) => entry === ns || full === entry || full.startsWith(`${entry}/`));
}

export async function serveMirror(store: ContentStore, options: MirrorOptions, log: Logger, metrics: Metrics | undefined): Promise<HttpListener> {
  /** Serves bytes [start, end) of what `body` writes, with the headers a registry sends. */
  async function sendBlob(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    digest: string,
    size: number,
    contentType: string,
    body: Body,
  ): Promise<number> {
    const range = byteRange(request.headers.range, size);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': contentType,
      'docker-content-digest': digest,
      etag: `"${digest}"`,
      'accept-ranges': 'bytes',
      'docker-distribution-api-version': 'registry/2.0',
    };
    if (range === 'unsatisfiable') {
      response.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
      return 0;
    }
    const [start, end] = range ?? [0, size];
    response.writeHead(range ? 206 : 200, { ...headers, 'content-length': end - start, ...(range ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}) });
    if (request.method === 'HEAD' || end === start) {
      response.end();
      return 0;
    }
    // Each write is done before its buffer may be read into again; a client that goes fails it.
    const write = (data: Buffer) => new Promise<void>((resolve, reject) => response.write(data, (err) => (err ? reject(err) : resolve())));
    await body(start, end, write);
    response.end();
    return end - start;
  }

  /**
   * A range of a stored blob, in 64 KiB reads of a file shared by every
   * reader of that blob (as Content.Read reads it): memory goes with the
   * readers, not the blob sizes (a registry's Go server reads 32 KiB at a time).
   */
  const fromStore =
    (digest: string): Body =>
    async (start, end, write) => {
      const range = await store.openRange(digest, start, end - start);
      await readInChunks(range, { chunkSize: MIRROR_READ_BYTES, headroom: 0 }, (chunk) => write(chunk.buffer.subarray(chunk.dataStart, chunk.dataStart + chunk.length)));
    };

  /** A verified spool file's bytes. */
  const fromFile =
    (file: string): Body =>
    async (start, end, write) => {
      for await (const chunk of fs.createReadStream(file, { start, end: end - 1, highWaterMark: MIRROR_READ_BYTES })) await write(chunk as Buffer);
    };

  async function local(request: http.IncomingMessage, response: http.ServerResponse, digest: string, kind: 'blob' | 'manifest'): Promise<boolean> {
    let size: number;
    try {
      size = (await store.info(digest)).size;
    } catch (err) {
      if (isKind(err, 'NotFound')) return false;
      throw err;
    }
    let contentType = 'application/octet-stream';
    let body = fromStore(digest);
    if (kind === 'manifest') {
      if (size > MANIFEST_SNIFF_BYTES) return false;
      const manifest = await buffer((await store.read(digest, 0, 0)).stream);
      const mediaType = manifestMediaType(manifest);
      if (!mediaType) return false;
      contentType = mediaType;
      // Read once: what was read to find the media type is what is served.
      body = (start, end, write) => write(manifest.subarray(start, end));
    }
    const sent = await sendBlob(request, response, digest, size, contentType, body);
    metrics?.mirrorLocalBytes.inc(sent);
    return true;
  }

  async function fromPeers(request: http.IncomingMessage, response: http.ServerResponse, url: URL, digest: string): Promise<boolean> {
    const peers = options.peers;
    if (!peers) return false;
    const onError = (peer: string, err: unknown) => {
      metrics?.mirrorPeerErrors.inc({ peer });
      log.warn({ peer, digest, err: (err as Error).message }, 'mirror: peer failed');
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const located = await peers.locate(url.pathname, url.search, onError);
      if (!located) return false;
      if (request.method === 'HEAD') {
        await sendBlob(request, response, digest, located.size, 'application/octet-stream', () => Promise.reject(new Error('HEAD has no body')));
        return true;
      }
      let blob;
      try {
        blob = await fetchFromPeer(`${located.peer}${url.pathname}${url.search}`, digest, located.size, {
          timeoutMs: peers.timeoutMs,
          cacheIn: options.cache ? store : undefined,
          spoolDir: options.spoolDir,
        });
      } catch (err) {
        onError(located.peer, err);
        peers.markBad(located.peer);
        continue;
      }
      if (blob.kind === 'mismatch') {
        metrics?.mirrorDigestMismatches.inc();
        log.warn({ peer: located.peer, digest, detail: blob.detail }, 'mirror: a peer served bytes that do not match their digest; it is skipped for a while');
        peers.markBad(located.peer);
        continue;
      }
      if (blob.kind === 'stored') {
        const sent = await sendBlob(request, response, digest, located.size, 'application/octet-stream', fromStore(digest));
        metrics?.mirrorPeerBytes.inc(sent);
        return true;
      }
      try {
        const file = blob.file;
        const sent = await sendBlob(request, response, digest, located.size, 'application/octet-stream', fromFile(file));
        metrics?.mirrorPeerBytes.inc(sent);
      } finally {
        await blob.remove();
      }
      return true;
    }
    return false;
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://mirror');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return sendError(response, 405, 'UNSUPPORTED', 'this mirror is read-only');
    }
    const asked = parseDistributionPath(url.pathname);
    switch (asked.kind) {
      case 'base':
        response.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end(request.method === 'HEAD' ? undefined : '{}\n');
        return;
      case 'invalid':
        return sendError(response, 404, asked.code, asked.message);
      case 'tag':
        return sendError(response, 404, 'MANIFEST_UNKNOWN', `tags are resolved upstream: ${asked.name}:${asked.tag}`);
    }
    const unknown = asked.kind === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN';
    if (!allowed(options.registries, url.searchParams.get('ns'), asked.name)) {
      return sendError(response, 404, unknown, `${asked.name} is not mirrored here`);
    }
    if (await local(request, response, asked.digest, asked.kind)) return;
    // A peer's request is answered from this store only: requests never loop.
    if (asked.kind === 'blob' && !request.headers[PEER_HEADER] && (await fromPeers(request, response, url, asked.digest))) return;
    if (!request.headers[PEER_HEADER]) metrics?.mirrorUpstreamFallbacks.inc();
    sendError(response, 404, unknown, `${asked.digest} is not here`);
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((err: Error) => {
      // A client that goes away midway is not the mirror failing.
      if (response.destroyed && !response.writableFinished) return log.debug({ path: request.url }, 'mirror: the client went away');
      log.error({ err, path: request.url }, 'mirror request failed');
      if (!response.headersSent) sendError(response, 500, 'UNKNOWN', err.message);
      else response.destroy(err);
    });
  });
  return listenHttp(server, options.address);
}
