import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shippedConfigForVersion } from './containerd-version';

test("containerd's version picks the shipped config: the diff proxy from 1.7.4, none before, containerd 2 refused", () => {
  assert.equal(shippedConfigForVersion('1.6.20~ds1'), 'containerd-1.6.toml');
  assert.equal(shippedConfigForVersion('1.7.3'), 'containerd-1.6.toml');
  assert.equal(shippedConfigForVersion('1.7.4'), 'containerd-1.7.toml');
  assert.equal(shippedConfigForVersion('1.7.13+unknown'), 'containerd-1.7.toml');
  assert.throws(() => shippedConfigForVersion('2.0.0'), /^Error: containerd 2\.0\.0: strata bench runs containerd 1\.6 and 1\.7$/);
  assert.throws(() => shippedConfigForVersion('1.5.18'), /strata bench runs containerd 1\.6 and 1\.7/);
});
