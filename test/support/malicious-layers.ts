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
