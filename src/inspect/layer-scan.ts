// Reads one layer blob once, as a stream: the compressed bytes are hashed
// (the layer's digest), decompressed, hashed again (its diff ID), and parsed
// entry by entry. Nothing of a file's data is kept.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { shown } from '../diff/byte-paths';
import { compressionOf, decompression, detectCompression, SNIFF_BYTES, type Compression } from '../diff/compression';
import { forEachTarEntry, type TarHeader } from '../diff/tar-entries';
import { runPipeline, tap } from '../stream-stages';
import type { EntryFacts, EntryType } from './merged-tree';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export interface LayerCounts {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  opaqueDirs: number;
}

/** One tar entry, as `--files` lists it. */
export interface LayerEntry extends EntryFacts {
  path: string;
  /** `.wh.` entries name the path they delete; opaque markers the directory they empty. */
  whiteout?: 'file' | 'opaque';
}

export interface LayerScan {
  compression: Compression;
  digest: string;
  compressedSize: number;
  diffId: string;
  uncompressedSize: number;
  counts: LayerCounts;
}

const KINDS: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'device',
  'block-device': 'device',
  fifo: 'fifo',
};

/** A tar name as a path below the root: no leading slash or ./, no trailing slash; '' is the root. */
export function entryPath(name: string): string {
  const normal = path.posix.normalize(`/${name}`).slice(1);
  return normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** The stream's first bytes, and a stream that still yields all of it. */
async function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; whole: AsyncIterable<Buffer> }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const seen: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    seen.push(next.value);
    length += next.value.length;
  }
  async function* whole(): AsyncGenerator<Buffer> {
    yield* seen;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head: Buffer.concat(seen).subarray(0, bytes), whole: whole() };
}

/** Scans a layer blob; onEntry sees each entry in order. */
export async function scanLayer(blob: Readable, mediaType: string, onEntry: (entry: LayerEntry) => void, onBytes?: (bytes: number) => void): Promise<LayerScan> {
  const { head, whole } = await peek(blob, SNIFF_BYTES);
  const compression = compressionOf(mediaType) ?? detectCompression(head, mediaType);
  const digest = createHash('sha256');
  const diffId = createHash('sha256');
  let compressedSize = 0;
  let uncompressedSize = 0;
  const counts: LayerCounts = { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, opaqueDirs: 0 };
  const stages = [
    tap((chunk) => {
      digest.update(chunk);
      compressedSize += chunk.length;
      onBytes?.(chunk.length);
    }),
    ...decompression(compression),
    tap((chunk) => {
      diffId.update(chunk);
      uncompressedSize += chunk.length;
    }),
  ];
  await runPipeline(Readable.from(whole, { objectMode: false }), stages, (tar) =>
    forEachTarEntry(tar, async (header: TarHeader) => {
      counts.entries++;
      const entry = toEntry(header);
      if (!entry) return;
      if (entry.whiteout === 'opaque') counts.opaqueDirs++;
      else if (entry.whiteout === 'file') counts.whiteouts++;
      else if (entry.type === 'file') counts.files++;
      else if (entry.type === 'dir') counts.dirs++;
      else if (entry.type === 'symlink') counts.symlinks++;
      else if (entry.type === 'hardlink') counts.hardlinks++;
      onEntry(entry);
    }),
  );
  return {
    compression,
    digest: `sha256:${digest.digest('hex')}`,
    compressedSize,
    diffId: `sha256:${diffId.digest('hex')}`,
    uncompressedSize,
    counts,
  };
}

// The parser gives names as bytes; inspect shows them as text.
function toEntry(header: TarHeader): LayerEntry | undefined {
  const full = entryPath(shown(header.name));
  const type = KINDS[header.type ?? 'file'];
  if (full === '' || !type) return undefined;
  const base = path.posix.basename(full);
  const dir = path.posix.dirname(full);
  const facts: EntryFacts = {
    type,
    size: type === 'file' ? (header.size ?? 0) : 0,
    mode: (header.mode ?? 0) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    ...(header.linkname ? { linkname: type === 'hardlink' ? entryPath(shown(header.linkname)) : shown(header.linkname) } : {}),
  };
  if (base === OPAQUE_MARKER) return { ...facts, path: dir === '.' ? '' : dir, whiteout: 'opaque' };
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const deleted = base.slice(WHITEOUT_PREFIX.length);
    return { ...facts, path: dir === '.' ? deleted : `${dir}/${deleted}`, whiteout: 'file' };
  }
  return { ...facts, path: full };
}
