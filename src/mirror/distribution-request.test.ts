import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDistributionPath } from './distribution-request';
import { manifestMediaType } from './manifest-media-type';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('distribution paths: base, blobs and manifests by digest, tags, and everything else refused', () => {
  assert.deepEqual(parseDistributionPath('/v2/'), { kind: 'base' });
  assert.deepEqual(parseDistributionPath(`/v2/library/busybox/blobs/${DIGEST}`), { kind: 'blob', name: 'library/busybox', digest: DIGEST });
  assert.deepEqual(parseDistributionPath(`/v2/a.b/c_d/e--f/manifests/${DIGEST}`), { kind: 'manifest', name: 'a.b/c_d/e--f', digest: DIGEST });
  assert.deepEqual(parseDistributionPath('/v2/library/busybox/manifests/1.36'), { kind: 'tag', name: 'library/busybox', tag: '1.36' });
  for (const [path, code] of [
    [`/v2/../etc/blobs/${DIGEST}`, 'NAME_INVALID'],
    [`/v2/a/../../b/blobs/${DIGEST}`, 'NAME_INVALID'],
    [`/v2/Upper/blobs/${DIGEST}`, 'NAME_INVALID'],
    [`/v2/a//b/blobs/${DIGEST}`, 'NAME_INVALID'],
    ['/v2/a/blobs/latest', 'DIGEST_INVALID'],
    ['/v2/a/blobs/sha256:1234', 'DIGEST_INVALID'],
    ['/v2/a/blobs/md5:d41d8cd98f00b204e9800998ecf8427e', 'DIGEST_INVALID'],
    ['/v2/a/manifests/-bad-tag', 'DIGEST_INVALID'],
    ['/v2/_catalog', 'UNSUPPORTED'],
    [`/v2/a/blobs/uploads/${DIGEST}`, 'UNSUPPORTED'],
    ['/metadata.db', 'UNSUPPORTED'],
  ] as const) {
    const parsed = parseDistributionPath(path);
    assert.equal(parsed.kind, 'invalid', path);
    assert.equal((parsed as { code: string }).code, code, path);
  }
});

test("a manifest's media type comes from its mediaType, or its shape", () => {
  const json = (doc: object) => Buffer.from(JSON.stringify(doc));
  assert.equal(manifestMediaType(json({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] })), 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(manifestMediaType(json({ schemaVersion: 2, manifests: [] })), 'application/vnd.oci.image.index.v1+json');
  assert.equal(manifestMediaType(json({ schemaVersion: 2, config: {}, layers: [] })), 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(manifestMediaType(json({ architecture: 'amd64' })), undefined);
  assert.equal(manifestMediaType(Buffer.from([0x1f, 0x8b, 0x08])), undefined);
});
