import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nowNs } from './clock';

test('nowNs tracks the wall clock within a millisecond', () => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const now = nowNs();
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  assert.ok(now >= before - 1_000_000n && now <= after + 1_000_000n, `${before} <= ${now} <= ${after}`);
});

test('nowNs is strictly increasing and has sub-millisecond resolution', () => {
  const samples = Array.from({ length: 1000 }, () => nowNs());
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i] > samples[i - 1]);
  assert.ok(samples.some((ns) => ns % 1_000_000n !== 0n), 'every sample was a whole millisecond');
});
