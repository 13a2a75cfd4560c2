import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isKind, type ErrorKind } from '../errdefs';
import { openMetadataDatabase, type MetadataDatabase } from './database';
import * as store from './snapshot-store';

let dir: string;
let db: MetadataDatabase;
let clock = 1_000n;
const tick = () => (clock += 1_000n);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-meta-'));
  db = openMetadataDatabase(path.join(dir, 'metadata.db'));
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function throwsKind(fn: () => unknown, kind: ErrorKind, message?: RegExp): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(isKind(err, kind), `expected ${kind}, got ${err.name}: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function committed(key: string, parent = ''): void {
  store.createSnapshot(db.writer, 'active', `${key}-active`, parent, {}, tick());
  store.commitActive(db.writer, `${key}-active`, key, { size: 0, inodes: 0 }, {}, tick());
}

test('a new snapshot has equal created and updated times, its labels and its parent chain', () => {
  committed('base');
  committed('middle', 'base');
  const ref = store.createSnapshot(db.writer, 'active', 'top', 'middle', { a: '1' }, 42n);
  const info = store.getInfo(db.writer, 'top');
  assert.deepEqual(info, { name: 'top', parent: 'middle', kind: 'active', created: 42n, updated: 42n, labels: { a: '1' } });
  const ids = ref.parentIds;
  assert.equal(ids.length, 2);
  assert.deepEqual(store.getSnapshot(db.writer, 'middle').parentIds, [ids[1]]);
  assert.deepEqual(store.getSnapshot(db.writer, 'top'), ref);
});

test('nanosecond timestamps beyond 2^53 round-trip exactly', () => {
  const now = 1_763_900_000_123_456_789n;
  store.createSnapshot(db.writer, 'view', 'v', '', {}, now);
  assert.equal(store.getInfo(db.writer, 'v').created, now);
});

test('creating follows containerd: missing parent, uncommitted parent, existing key', () => {
  store.createSnapshot(db.writer, 'active', 'a', '', {}, tick());
  throwsKind(() => store.createSnapshot(db.writer, 'active', 'b', 'nope', {}, tick()), 'NotFound', /parent nope/);
  throwsKind(() => store.createSnapshot(db.writer, 'view', 'b', 'a', {}, tick()), 'InvalidArgument', /not a committed/);
  throwsKind(() => store.createSnapshot(db.writer, 'active', 'a', '', {}, tick()), 'AlreadyExists');
  throwsKind(() => store.createSnapshot(db.writer, 'active', '', '', {}, tick()), 'InvalidArgument');
});

test('labels over 4096 bytes of key and value are rejected', () => {
  const big = { k: 'v'.repeat(4096) };
  throwsKind(() => store.createSnapshot(db.writer, 'active', 'a', '', big, tick()), 'InvalidArgument', /4096/);
  store.createSnapshot(db.writer, 'active', 'a', '', { k: 'v'.repeat(4095) }, tick());
  throwsKind(() => store.updateInfo(db.writer, 'a', big, [], tick()), 'InvalidArgument', /4096/);
});

test('commit renames, resets times, replaces labels and records usage', () => {
  store.createSnapshot(db.writer, 'active', 'a', '', { old: 'x' }, 5n);
  store.commitActive(db.writer, 'a', 'c', { size: 4096, inodes: 3 }, { fresh: 'y' }, 9n);
  throwsKind(() => store.getInfo(db.writer, 'a'), 'NotFound');
  assert.deepEqual(store.getInfo(db.writer, 'c'), {
    name: 'c', parent: '', kind: 'committed', created: 9n, updated: 9n, labels: { fresh: 'y' },
  });
  assert.deepEqual(store.getUsage(db.writer, 'c').usage, { size: 4096, inodes: 3 });
});

test('commit refuses a non-active snapshot, a taken name and a missing key', () => {
  committed('c');
  store.createSnapshot(db.writer, 'view', 'v', 'c', {}, tick());
  store.createSnapshot(db.writer, 'active', 'a', 'c', {}, tick());
  throwsKind(() => store.commitActive(db.writer, 'v', 'x', { size: 0, inodes: 0 }, {}, tick()), 'FailedPrecondition');
  throwsKind(() => store.commitActive(db.writer, 'c', 'y', { size: 0, inodes: 0 }, {}, tick()), 'FailedPrecondition');
  throwsKind(() => store.commitActive(db.writer, 'a', 'c', { size: 0, inodes: 0 }, {}, tick()), 'AlreadyExists');
  throwsKind(() => store.commitActive(db.writer, 'missing', 'z', { size: 0, inodes: 0 }, {}, tick()), 'NotFound');
});

test('remove refuses a parent with children, and ids are never reused', () => {
  committed('base');
  const child = store.createSnapshot(db.writer, 'active', 'child', 'base', {}, tick());
  throwsKind(() => store.removeSnapshot(db.writer, 'base'), 'FailedPrecondition', /child/);
  assert.equal(store.removeSnapshot(db.writer, 'child').id, child.id);
  store.removeSnapshot(db.writer, 'base');
  throwsKind(() => store.removeSnapshot(db.writer, 'base'), 'NotFound');
  const again = store.createSnapshot(db.writer, 'active', 'child', '', {}, tick());
  assert.ok(again.id > child.id);
  assert.deepEqual([...store.liveIds(db.writer)], [again.id]);
});

test('update follows containerd field masks; immutable fields are InvalidArgument', () => {
  store.createSnapshot(db.writer, 'active', 'a', '', { l1: 'v1', l2: 'v2', keep: 'k' }, 1n);
  let info = store.updateInfo(db.writer, 'a', { l1: 'new', l3: 'ignored' }, ['labels.l1', 'labels.l2'], 7n);
  assert.deepEqual(info.labels, { l1: 'new', keep: 'k' });
  assert.equal(info.created, 1n);
  assert.equal(info.updated, 7n);
  info = store.updateInfo(db.writer, 'a', { only: 'this' }, ['labels'], 8n);
  assert.deepEqual(info.labels, { only: 'this' });
  info = store.updateInfo(db.writer, 'a', { all: 'replaced' }, [], 9n);
  assert.deepEqual(info.labels, { all: 'replaced' });
  throwsKind(() => store.updateInfo(db.writer, 'a', {}, ['parent'], 10n), 'InvalidArgument', /parent/);
  throwsKind(() => store.updateInfo(db.writer, 'missing', {}, [], 10n), 'NotFound');
});

test('list returns every snapshot with its own labels', () => {
  committed('c');
  store.createSnapshot(db.writer, 'view', 'v', 'c', { x: '1' }, tick());
  const byName = Object.fromEntries(store.listInfos(db.writer).map((i) => [i.name, i]));
  assert.deepEqual(Object.keys(byName).sort(), ['c', 'v']);
  assert.deepEqual(byName.v.labels, { x: '1' });
  assert.equal(byName.v.parent, 'c');
  assert.deepEqual(byName.c.labels, {});
});

test('the reader only sees committed transactions', () => {
  db.writer.exec('BEGIN IMMEDIATE');
  store.createSnapshot(db.writer, 'active', 'pending', '', {}, tick());
  throwsKind(() => store.getInfo(db.reader, 'pending'), 'NotFound');
  db.writer.exec('COMMIT');
  assert.equal(store.getInfo(db.reader, 'pending').kind, 'active');
});
