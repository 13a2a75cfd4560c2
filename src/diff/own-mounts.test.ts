import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isKind } from '../errdefs';
import { ownMountsOnly } from './own-mounts';

test("only binds and overlays of strata's own snapshots pass, after links are followed", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-own-mounts-'));
  try {
    const snapshots = path.join(root, 'snapshots');
    for (const id of ['1', '2']) fs.mkdirSync(path.join(snapshots, id, 'fs'), { recursive: true });
    fs.mkdirSync(path.join(snapshots, '2', 'work'));
    fs.mkdirSync(path.join(root, 'outside'));
    fs.symlinkSync(path.join(root, 'outside'), path.join(snapshots, '1', 'fs', 'out'));
    const check = ownMountsOnly(snapshots);
    const fsOf = (id: string) => path.join(snapshots, id, 'fs');
    const overlay = (lower: string, upper = fsOf('2')) => [
      { type: 'overlay', source: 'overlay', options: ['index=off', `workdir=${path.join(snapshots, '2', 'work')}`, `upperdir=${upper}`, `lowerdir=${lower}`] },
    ];

    check([{ type: 'bind', source: fsOf('1'), options: ['rbind', 'ro'] }]);
    check(overlay(fsOf('1')));
    check([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${fsOf('2')}:${fsOf('1')}`] }]);

    const refused = [
      [{ type: 'bind', source: '/', options: ['rbind'] }],
      [{ type: 'bind', source: path.join(fsOf('1'), 'out'), options: ['rbind'] }],
      [{ type: 'bind', source: `${fsOf('1')}/../../../outside`, options: ['rbind'] }],
      [{ type: 'bind', source: snapshots, options: ['rbind'] }],
      [{ type: 'bind', source: 'snapshots/1/fs', options: ['rbind'] }],
      [{ type: 'tmpfs', source: 'tmpfs', options: [] }],
      [{ type: 'nfs', source: 'host:/x', options: [] }],
      overlay(`${fsOf('1')}:/etc`),
      overlay(fsOf('1'), '/tmp'),
      [{ type: 'overlay', source: 'overlay', options: [] }],
    ];
    for (const mounts of refused) {
      assert.throws(() => check(mounts), (err: Error) => isKind(err, 'InvalidArgument'), JSON.stringify(mounts));
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
