// What a request to the distribution API asks for, by its path: the API's
// base, or a blob or manifest of a repository by digest. Names follow the
// distribution spec's grammar, so no path segment can climb out ("..") or
// reach anything but a digest.
import { parseDigest } from '../content/digest';

export type DistributionRequest =
  | { kind: 'base' }
  | { kind: 'blob' | 'manifest'; name: string; digest: string }
  /** A manifest by tag: a mirror with capabilities = ["pull"] resolves none. */
  | { kind: 'tag'; name: string; tag: string }
  | { kind: 'invalid'; code: 'NAME_INVALID' | 'DIGEST_INVALID' | 'UNSUPPORTED'; message: string };

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function parseDistributionPath(pathname: string): DistributionRequest {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  const match = /^\/v2\/(.+)\/(blobs|manifests)\/([^/]+)$/.exec(pathname);
  if (!match) return { kind: 'invalid', code: 'UNSUPPORTED', message: `not a blob or manifest path: ${pathname}` };
  const [, name, what, reference] = match;
  if (name.length > 255 || !NAME.test(name)) return { kind: 'invalid', code: 'NAME_INVALID', message: `invalid repository name ${JSON.stringify(name)}` };
  if (!reference.includes(':')) {
    if (what === 'manifests' && TAG.test(reference)) return { kind: 'tag', name, tag: reference };
    return { kind: 'invalid', code: 'DIGEST_INVALID', message: `invalid digest ${JSON.stringify(reference)}` };
  }
  try {
    parseDigest(reference);
  } catch (err) {
    return { kind: 'invalid', code: 'DIGEST_INVALID', message: (err as Error).message };
  }
  return { kind: what === 'blobs' ? 'blob' : 'manifest', name, digest: reference };
}
