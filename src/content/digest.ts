// OCI digests ("algorithm:hex"), validated the way go-digest does.
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../errdefs';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** The algorithm blobs are written with, as containerd's digest.Canonical. */
export const CANONICAL = 'sha256';

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (colon < 0 || length === undefined) throw invalidArgument(`invalid digest ${JSON.stringify(digest)}: unsupported algorithm`);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw invalidArgument(`invalid digest ${JSON.stringify(digest)}: invalid ${algorithm} encoding`);
  }
  return { algorithm, hex };
}

export function newHash(): Hash {
  return createHash(CANONICAL);
}

export function digestOf(hash: Hash): string {
  return `${CANONICAL}:${hash.copy().digest('hex')}`;
}
