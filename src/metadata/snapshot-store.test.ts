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
  store.commitActive(db.writer, `${key}-active`, key, {}, tick());
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
  const { id } = store.commitActive(db.writer, 'a', 'c', { fresh: 'y' }, 9n);
  store.recordUsage(db.writer, id, { size: 4096, inodes: 3 });
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
  throwsKind(() => store.commitActive(db.writer, 'v', 'x', {}, tick()), 'FailedPrecondition');
  throwsKind(() => store.commitActive(db.writer, 'c', 'y', {}, tick()), 'FailedPrecondition');
  throwsKind(() => store.commitActive(db.writer, 'a', 'c', {}, tick()), 'AlreadyExists');
  throwsKind(() => store.commitActive(db.writer, 'missing', 'z', {}, tick()), 'NotFound');
  // The key is looked up first, as containerd's overlay Commit does.
  throwsKind(() => store.commitActive(db.writer, 'missing', 'c', {}, tick()), 'NotFound');
});

test('commit gives a snapshot created without a parent the one it names, with its whole ancestry', () => {
  committed('base');
  committed('middle', 'base');
  const { id } = store.createSnapshot(db.writer, 'active', 'layer', '', { 'containerd.io/snapshot/parent-chain-id': 'middle' }, tick());
  assert.equal(store.isParentlessActive(db.writer, id), true);
  const result = store.commitActive(db.writer, 'layer', 'top', { kept: 'y' }, tick(), 'middle');
  assert.deepEqual(result, { id, rebasedOnto: [store.getSnapshot(db.writer, 'middle').id, store.getSnapshot(db.writer, 'base').id] });
  assert.equal(store.getInfo(db.writer, 'top').parent, 'middle');
  assert.deepEqual(store.getSnapshot(db.writer, 'top').parentIds, result.rebasedOnto);
  assert.equal(store.isParentlessActive(db.writer, id), false);
  throwsKind(() => store.removeSnapshot(db.writer, 'middle'), 'FailedPrecondition', /top is its child/);
});

test('commit with the parent a snapshot already has, or with none, keeps it: no rebase', () => {
  committed('base');
  store.createSnapshot(db.writer, 'active', 'a', 'base', {}, tick());
  assert.equal(store.commitActive(db.writer, 'a', 'same', {}, tick(), 'base').rebasedOnto, undefined);
  store.createSnapshot(db.writer, 'active', 'b', 'base', {}, tick());
  assert.equal(store.commitActive(db.writer, 'b', 'none', {}, tick()).rebasedOnto, undefined);
  assert.equal(store.getInfo(db.writer, 'none').parent, 'base');
});

test('bad rebases get containerd 2.2\'s codes, and leave the snapshot active', () => {
  committed('base');
  committed('other');
  store.createSnapshot(db.writer, 'active', 'view-parent', '', {}, tick());
  store.createSnapshot(db.writer, 'view', 'a-view', 'base', {}, tick());
  store.createSnapshot(db.writer, 'active', 'with-parent', 'base', {}, tick());
  store.createSnapshot(db.writer, 'active', 'orphan', '', {}, tick());
  const attempts: [string, string, string, ErrorKind, RegExp][] = [
    ['with-parent', 'x1', 'other', 'InvalidArgument', /cannot change parent/],
    ['orphan', 'x2', 'missing', 'NotFound', /parent missing .*does not exist/],
    ['orphan', 'x3', 'view-parent', 'FailedPrecondition', /active, not committed/],
    ['orphan', 'x4', 'a-view', 'FailedPrecondition', /view, not committed/],
    // The cycles: the snapshot onto itself, by its key or by the name it is committed as.
    ['orphan', 'x5', 'orphan', 'NotFound', /parent orphan of snapshot orphan does not exist/],
    ['orphan', 'x6', 'x6', 'InvalidArgument', /cannot be its own parent/],
  ];
  for (const [key, name, parent, kind, message] of attempts) {
    db.writer.exec('BEGIN IMMEDIATE');
    try {
      throwsKind(() => store.commitActive(db.writer, key, name, {}, tick(), parent), kind, message);
    } finally {
      db.writer.exec('ROLLBACK');
    }
    assert.equal(store.getInfo(db.writer, key).kind, 'active');
    throwsKind(() => store.getInfo(db.writer, name), 'NotFound');
  }
  assert.equal(store.getInfo(db.writer, 'with-parent').parent, 'base');
  assert.equal(store.getInfo(db.writer, 'orphan').parent, '');
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

test('a Commit records how long the snapshot took to unpack: its Prepare to the Commit, or what the caller measured', () => {
  const firstUnpack = (key: string) => (db.writer.prepare('SELECT first_unpack_ns FROM snapshots WHERE key = ?').safeIntegers(true).get(key) as { first_unpack_ns: bigint }).first_unpack_ns;
  store.createSnapshot(db.writer, 'active', 'a', '', {}, 5_000n);
  store.commitActive(db.writer, 'a', 'by-lifetime', {}, 12_000n);
  assert.equal(firstUnpack('by-lifetime'), 7_000n);
  store.createSnapshot(db.writer, 'active', 'b', '', {}, 20_000n);
  store.commitActive(db.writer, 'b', 'measured', {}, 90_000n, '', 3_000n);
  assert.equal(firstUnpack('measured'), 3_000n);
});
