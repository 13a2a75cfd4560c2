import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '../filters';
import { snapshotFields } from './snapshot-filter';
import type { Info } from './types';

const info: Info = {
  name: 'n',
  parent: '',
  kind: 'active',
  created: 0n,
  updated: 0n,
  labels: { 'containerd.io/gc.root': 'x', 'a.b': 'dotted' },
};

test('snapshot fields: kind, name, an empty parent, and label keys with dots', () => {
  const match = (filter: string) => parseFilters([filter]).match(snapshotFields(info));
  assert.equal(match('kind==active'), true);
  assert.equal(match('name==n'), true);
  assert.equal(match('parent==""'), true);
  assert.equal(match('parent!=""'), false);
  assert.equal(match('labels."containerd.io/gc.root"'), true);
  assert.equal(match('labels.a.b==dotted'), true);
  assert.equal(match('labels."a.b"==dotted'), true);
  assert.equal(match('labels.missing'), false);
});
