// A blob from a peer, verified before a byte of it is served: it goes to a
// spool file (or, with cache = true, into the local store as an ingest with
// a verified commit), and only a blob whose size and digest match is handed
// on. A peer's bytes are never trusted, and never reach containerd unchecked,
// so containerd can still take the blob from the next host when a peer lies.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isKind } from '../errdefs';
import type { ContentStore } from '../content/store';
import { PEER_HEADER } from './peers';

export type PeerBlob =
  /** The blob is in the local store now (cache = true). */
  | { kind: 'stored' }
  /** A verified spool file; remove() once it is served. */
  | { kind: 'spooled'; file: string; remove(): Promise<void> }
  | { kind: 'mismatch'; detail: string };

async function fetchBody(url: string, timeoutMs: number): Promise<Readable> {
  // The timeout covers the answer's headers; the body may take as long as it takes.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    const response = await fetch(url, { headers: { [PEER_HEADER]: '1' }, signal: controller.signal });
    if (response.status !== 200 || !response.body) throw new Error(`GET ${url}: ${response.status}`);
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  } finally {
    clearTimeout(timer);
  }
}

/** Passes at most `size` bytes, failing as a mismatch past them: a peer cannot fill the disk. */
async function* atMost(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    if (bytes > size) throw Object.assign(new Error(`more than the ${size} bytes HEAD announced`), { mismatch: true });
    yield chunk;
  }
}

const isMismatch = (err: unknown) => (err as { mismatch?: boolean }).mismatch === true;

async function intoStore(body: Readable, store: ContentStore, digest: string, size: number): Promise<PeerBlob> {
  let writer;
  try {
    writer = await store.openWriter(`strata-mirror-${digest}`, size, digest);
  } catch (err) {
    if (isKind(err, 'AlreadyExists')) return { kind: 'stored' };
    throw err;
  }
  try {
    await writer.truncate();
    try {
      for await (const chunk of atMost(body, size)) await writer.write(chunk);
      await writer.commit(size, digest, {});
    } catch (err) {
      if (isKind(err, 'AlreadyExists')) return { kind: 'stored' };
      if (isKind(err, 'FailedPrecondition') || isMismatch(err)) {
        await writer.discard();
        return { kind: 'mismatch', detail: (err as Error).message };
      }
      throw err;
    }
    return { kind: 'stored' };
  } finally {
    await writer.close();
  }
}

async function intoSpool(body: Readable, spoolDir: string, digest: string, size: number): Promise<PeerBlob> {
  await fs.promises.mkdir(spoolDir, { recursive: true });
  const file = path.join(spoolDir, `${digest.replace(':', '-')}-${process.hrtime.bigint()}`);
  const remove = () => fs.promises.rm(file, { force: true });
  const hash = createHash(digest.slice(0, digest.indexOf(':')));
  let bytes = 0;
  try {
    await pipeline(
      body,
      (source: AsyncIterable<Buffer>) => atMost(source, size),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          hash.update(chunk);
          yield chunk;
        }
      },
      fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    await remove();
    if (isMismatch(err)) return { kind: 'mismatch', detail: (err as Error).message };
    throw err;
  }
  const got = `${digest.slice(0, digest.indexOf(':'))}:${hash.digest('hex')}`;
  if (bytes !== size || got !== digest) {
    await remove();
    return { kind: 'mismatch', detail: `got ${bytes} bytes with digest ${got}, expected ${size} bytes of ${digest}` };
  }
  return { kind: 'spooled', file, remove };
}

export async function fetchFromPeer(
  url: string,
  digest: string,
  size: number,
  options: { timeoutMs: number; cacheIn?: ContentStore; spoolDir: string },
): Promise<PeerBlob> {
  const body = await fetchBody(url, options.timeoutMs);
  return options.cacheIn ? intoStore(body, options.cacheIn, digest, size) : intoSpool(body, options.spoolDir, digest, size);
}
