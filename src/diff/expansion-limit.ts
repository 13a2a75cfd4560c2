// Refuses a layer that decompresses to more than it may: past a size, or,
// once it is past a floor, at a ratio no real layer reaches. A 100 KiB zstd
// layer can describe 100 GiB of zeros; the stream stages would write it all,
// slowly and within bounded memory, until the disk filled.
import { invalidArgument } from '../errdefs';
import { tap, type ByteTransform } from '../stream-stages';

export interface ExpansionLimits {
  /** Uncompressed bytes a layer may have. */
  maxBytes: number;
  /** Uncompressed over compressed bytes, checked past RATIO_FLOOR; 0 is no limit. */
  maxRatio: number;
}

/**
 * Below this much output the ratio is not checked: gzip reaches 1,000:1 and
 * zstd far more on runs of zeros, so small layers can have any ratio.
 */
export const RATIO_FLOOR = 1 << 30;

/** Stages to put before and after decompression; the second refuses what expands too far. */
export function limitExpansion(limits: ExpansionLimits): { compressed: ByteTransform; uncompressed: ByteTransform } {
  let compressedBytes = 0;
  let uncompressedBytes = 0;
  return {
    compressed: tap((chunk) => {
      compressedBytes += chunk.length;
    }),
    uncompressed: tap((chunk) => {
      uncompressedBytes += chunk.length;
      if (uncompressedBytes > limits.maxBytes) {
        throw invalidArgument(`layer expands to more than [diff] max_uncompressed_bytes (${limits.maxBytes} bytes)`);
      }
      if (limits.maxRatio > 0 && uncompressedBytes > RATIO_FLOOR && uncompressedBytes > limits.maxRatio * compressedBytes) {
        throw invalidArgument(
          `layer expands more than [diff] max_compression_ratio (${limits.maxRatio}:1): ${uncompressedBytes} bytes from ${compressedBytes}`,
        );
      }
    }),
  };
}
