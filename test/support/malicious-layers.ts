// Hand-made layer blobs for attacking an applier: raw tars whose member names
// and links are whatever a hostile image author writes (nothing here cleans
// them up), and compressed streams that are cut short or damaged.
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { compress as zstdCompress } from 'zstd-napi';
import type { LayerEntry, TarHeader } from './tar-entries';

const FIXED_MTIME = new Date('2020-01-02T03:04:05Z');

/** Packs the entries exactly as given (names untouched) into an uncompressed tar. */
export async function rawTar(entries: LayerEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    packer.once('end', resolve);
    packer.once('error', reject);
  });
  for (const { header, content } of entries) {
    const copy = { ...header, mtime: header.mtime ?? FIXED_MTIME };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (header.type === 'file' || header.type === undefined) packer.entry(copy, content ?? Buffer.alloc(0), done);
      else packer.entry(copy, done);
    });
  }
  packer.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export function gzip(data: Buffer): Buffer {
  return gzipSync(data);
}

/** zstd with the frame checksum on, so any damage to the content is detectable. */
export function zstd(data: Buffer): Buffer {
  return zstdCompress(data, { checksumFlag: true });
}

/** The first `fraction` of the blob. */
export function truncated(data: Buffer, fraction: number): Buffer {
  return Buffer.from(data.subarray(0, Math.floor(data.length * fraction)));
}

/** A copy with `length` bytes in the middle inverted. */
export function corruptedInTheMiddle(data: Buffer, length: number): Buffer {
  const copy = Buffer.from(data);
  const start = Math.floor(copy.length / 2) - Math.floor(length / 2);
  for (let i = start; i < start + length; i++) copy[i] ^= 0xff;
  return copy;
}

/** A copy with its last `length` bytes inverted (a gzip trailer is its last 8 bytes). */
export function corruptedAtTheEnd(data: Buffer, length: number): Buffer {
  const copy = Buffer.from(data);
  for (let i = copy.length - length; i < copy.length; i++) copy[i] ^= 0xff;
  return copy;
}

/**
 * Deterministic bytes that are neither gzip, zstd nor tar: the first byte is
 * never gzip's 0x1f or zstd's 0x28, and offset 257 never spells "ustar".
 */
export function garbage(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    bytes[i] = state >>> 24;
  }
  if (size > 0) bytes[0] = 0x42;
  if (size > 257) bytes[257] = 0x00;
  return bytes;
}

/**
 * Text that compresses well but not trivially: enough tar members and bytes
 * that cutting or damaging the compressed stream anywhere in its middle lands
 * inside real data.
 */
export function bulkyEntries(files: number, bytesPerFile: number): LayerEntry[] {
  const entries: LayerEntry[] = [{ header: { name: 'bulk', type: 'directory', mode: 0o755 } }];
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    let length = 0;
    for (let line = 0; length < bytesPerFile; line++) {
      const text = `file ${f} line ${line} value ${(line * 2_654_435_761 + f) % 1_000_003}\n`;
      lines.push(text);
      length += text.length;
    }
    const content = Buffer.from(lines.join('')).subarray(0, bytesPerFile);
    entries.push({ header: { name: `bulk/file-${f}`, type: 'file', mode: 0o644, size: content.length }, content });
  }
  return entries;
}

/** A tar member with a header given in full (for PAX records, odd types, hostile link names). */
export function rawEntry(header: TarHeader, content?: Buffer): LayerEntry {
  if (content !== undefined) return { header: { ...header, size: content.length }, content };
  return { header };
}

/** The largest zstd block: a run-length block regenerates this many bytes from one. */
const ZSTD_BLOCK = 128 * 1024;

/**
 * A zstd decompression bomb, written by hand: one frame holding a tar header
 * for one file of `size` zero bytes (a PAX size, so any size fits) as a raw
 * block, then run-length blocks of zeros. 100 GiB takes 3.2 MB; no
 * compressor has to produce the zeros first.
 */
export async function zstdZeroBomb(name: string, size: number): Promise<Buffer> {
  const header = await rawTar([{ header: { name, type: 'file', size: 0, mode: 0o644, pax: { size: String(size) } }, content: Buffer.alloc(0) }]);
  // rawTar ends the archive: keep the PAX record and the file's header, which come first.
  const headers = header.subarray(0, header.length - 1024);
  const blockHeader = (type: number, size: number, last: boolean) => {
    const value = (size << 3) | (type << 1) | (last ? 1 : 0);
    return Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]);
  };
  const padded = size + ((512 - (size % 512)) % 512) + 1024;
  const parts: Buffer[] = [
    // Magic; a descriptor without a content size, single segment or checksum; a 128 KiB window.
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]),
    blockHeader(0, headers.length, false),
    headers,
  ];
  const rle = Buffer.concat([blockHeader(1, ZSTD_BLOCK, false), Buffer.from([0])]);
  const full = Math.floor(padded / ZSTD_BLOCK);
  const rest = padded % ZSTD_BLOCK;
  for (let i = 0; i < full; i++) parts.push(rest === 0 && i === full - 1 ? Buffer.concat([blockHeader(1, ZSTD_BLOCK, true), Buffer.from([0])]) : rle);
  if (rest > 0) parts.push(blockHeader(1, rest, true), Buffer.from([0]));
  return Buffer.concat(parts);
}
