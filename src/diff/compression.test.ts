import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { compress } from 'zstd-napi';
import { isKind } from '../errdefs';
import { compressionOf, detectCompression } from './compression';

test('media types name their compression', () => {
  assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  assert.equal(compressionOf('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar'), 'none');
  assert.equal(compressionOf('application/octet-stream'), undefined);
});

test('unknown media types are sniffed, and garbage is Unimplemented', () => {
  const tarHead = Buffer.alloc(512);
  tarHead.write('ustar', 257, 'latin1');
  assert.equal(detectCompression(gzipSync('x'), 'x'), 'gzip');
  assert.equal(detectCompression(compress(Buffer.from('x')), 'x'), 'zstd');
  assert.equal(detectCompression(tarHead, 'x'), 'none');
  assert.throws(() => detectCompression(Buffer.from('garbage'), 'application/x-junk'), (err) => isKind(err, 'Unimplemented'));
});
