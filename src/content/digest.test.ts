import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../errdefs';
import { digestOf, newHash, parseDigest } from './digest';

test('parses the digests containerd accepts', () => {
  const hex = 'a'.repeat(64);
  assert.deepEqual(parseDigest(`sha256:${hex}`), { algorithm: 'sha256', hex });
  assert.equal(parseDigest(`sha512:${'0'.repeat(128)}`).algorithm, 'sha512');
});

test('rejects malformed digests with InvalidArgument', () => {
  for (const bad of ['', 'sha256', `md5:${'a'.repeat(32)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`, `sha256:../${'a'.repeat(61)}`]) {
    assert.throws(() => parseDigest(bad), (err) => isKind(err, 'InvalidArgument'), bad);
  }
});

test('digestOf can be read mid-stream without disturbing the hash', () => {
  const hash = newHash();
  hash.update('ab');
  assert.equal(digestOf(hash), 'sha256:fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603');
  hash.update('c');
  assert.equal(digestOf(hash), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
