import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../errdefs';
import { RefLocks } from './ref-locks';

test('a second writer on a held ref is Unavailable', async () => {
  const locks = new RefLocks();
  const first = await locks.acquire('r');
  await assert.rejects(locks.acquire('r'), (err) => isKind(err, 'Unavailable'));
  first.release();
  (await locks.acquire('r')).release();
});

test('a writer whose client has closed is waited for, not refused', async () => {
  const locks = new RefLocks();
  const first = await locks.acquire('r');
  first.closing();
  let acquired = false;
  const second = locks.acquire('r').then((lock) => {
    acquired = true;
    return lock;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(acquired, false);
  first.release();
  (await second).release();
  assert.equal(locks.isLocked('r'), false);
});

test('a holder that starts closing just after a new writer asks is still waited for', async () => {
  const locks = new RefLocks();
  const first = await locks.acquire('r');
  const second = locks.acquire('r');
  setTimeout(() => {
    first.closing();
    setTimeout(() => first.release(), 10);
  }, 10);
  (await second).release();
});
