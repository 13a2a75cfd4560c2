// OCI's ChainID, which names a stack of layers: containerd's snapshot names
// for unpacked layers, and what its unpacker asks a snapshotter for.
import { createHash } from 'node:crypto';

/** The diff ID alone for a base layer; else sha256 of "PARENT-CHAIN DIFF-ID". */
export function chainId(parentChain: string | undefined, diffId: string): string {
  if (parentChain === undefined) return diffId;
  return `sha256:${createHash('sha256').update(`${parentChain} ${diffId}`).digest('hex')}`;
}
