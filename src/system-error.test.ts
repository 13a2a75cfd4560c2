import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { systemErrorText } from './system-error';

test('a failed system call reads as Go says it; any other error as its message', () => {
  assert.throws(() => fs.mkdirSync('/proc/strata-test'), (err) => systemErrorText(err) === 'mkdir /proc/strata-test: no such file or directory');
  assert.equal(systemErrorText(new Error('plain')), 'plain');
  assert.equal(systemErrorText('thrown text'), 'thrown text');
});
