import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from './errdefs';
import { Slots } from './slots';

test('no more than N hold a slot; waiters go in order; a cancelled waiter leaves the queue', async () => {
  const slots = new Slots(2);
  const order: string[] = [];
  const a = await slots.take();
  const b = await slots.take();
  const c = slots.take().then((release) => (order.push('c'), release));
  const abort = new AbortController();
  const d = slots.take(abort.signal);
  const e = slots.take().then((release) => (order.push('e'), release));
  abort.abort();
  await assert.rejects(d, (err: Error) => isKind(err, 'Cancelled'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, []);
  a();
  a(); // releasing twice frees one slot only
  const releaseC = await c;
  assert.deepEqual(order, ['c']);
  b();
  const releaseE = await e;
  assert.deepEqual(order, ['c', 'e']);
  releaseC();
  releaseE();
  // Both slots are free again, and no more.
  await slots.take();
  await slots.take();
  let third = false;
  void slots.take().then(() => (third = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(third, false);
});
