import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathHashes } from './path-hashes';

test('every added path may be there; of 100,000 others almost none seem to be, and none after a clear', () => {
  const hashes = new PathHashes();
  const added = Array.from({ length: 100_000 }, (_, i) => `/snapshots/1/fs/d${i % 997}/f${i}`);
  for (const name of added) hashes.add(name);
  assert.ok(added.every((name) => hashes.mayHave(name)));
  const others = Array.from({ length: 100_000 }, (_, i) => `/snapshots/1/fs/d${i % 997}/g${i}`);
  // 100,000 names in 2^30 hashes: about ten wrong yeses are expected, each costing one lstat.
  assert.ok(others.filter((name) => hashes.mayHave(name)).length < 100);
  hashes.clear();
  assert.ok(added.every((name) => !hashes.mayHave(name)));
});
