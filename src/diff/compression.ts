// Which decompressor a layer needs, by its media type or, for a media type we
// do not know, by its first bytes; and the pipeline stages that undo it.
import { createGunzip, createGzip } from 'node:zlib';
import { CompressStream } from 'zstd-napi';
import type { Stage } from '../stream-stages';
import { unimplemented } from '../errdefs';
import { zstdDecompress } from './zstd-decompress';

export type Compression = 'gzip' | 'zstd' | 'none';

const BY_MEDIA_TYPE: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

/** Bytes a sniffer needs: a tar's "ustar" magic ends at 262. */
export const SNIFF_BYTES = 512;

export function compressionOf(mediaType: string): Compression | undefined {
  return BY_MEDIA_TYPE[mediaType];
}

/** Sniffs gzip, zstd or a plain tar ("ustar" at offset 257) from a layer's first bytes. */
export function detectCompression(head: Buffer, mediaType: string): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  throw unimplemented(`unsupported media type ${mediaType}: content is not gzip, zstd or tar`);
}

/**
 * zlib's stream stops inflating whenever its reader is full, even in the
 * middle of an input chunk, so a gzip bomb waits in its compressed form. Its
 * output pieces are as large as zstd's, for fewer trips to the thread pool.
 */
const GZIP_PIECE_SIZE = 128 * 1024;

/** Fresh stages (they hold state) that turn a compressed layer back into its tar. */
export function decompression(compression: Compression): Stage[] {
  switch (compression) {
    case 'gzip':
      return [createGunzip({ chunkSize: GZIP_PIECE_SIZE })];
    case 'zstd':
      return [zstdDecompress];
    case 'none':
      return [];
  }
}

/**
 * Fresh stages that compress a tar. Compression shrinks, so these may push a
 * chunk's output at once.
 */
export function compression(kind: Compression): Stage[] {
  switch (kind) {
    case 'gzip':
      return [createGzip()];
    case 'zstd':
      return [new CompressStream()];
    case 'none':
      return [];
  }
}
