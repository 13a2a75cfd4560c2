import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePaths } from './path-diff';
import { differenceText } from './report-text';

const file = (path: string, size: number) => ({ path, type: 'file' as const, size, mode: 0o644, uid: 0, gid: 0 });

test('two layers compared path by path: removals, changes and additions, whiteouts marked', () => {
  const lower = [file('etc/config', 10), file('etc/old', 3), { ...file('bin', 0), type: 'dir' as const, mode: 0o755 }];
  const upper = [
    file('etc/config', 12),
    { ...file('etc/old', 0), whiteout: 'file' as const },
    { ...file('bin', 0), type: 'dir' as const, mode: 0o700 },
    { ...file('bin/sh', 0), type: 'symlink' as const, linkname: 'busybox' },
    { ...file('var', 0), type: 'dir' as const, whiteout: 'opaque' as const },
  ];
  const differences = comparePaths(lower, upper);
  assert.deepEqual(
    differences.map((d) => [d.path, d.change, d.fields]),
    [
      ['bin', 'changed', ['mode']],
      ['bin/sh', 'added', []],
      ['etc/config', 'changed', ['size']],
      ['etc/old', 'removed', []],
      ['etc/old', 'added', []],
      ['var', 'added', []],
    ],
  );
  assert.equal(
    differenceText('0', '1', differences),
    ['--- 0', '+++ 1', '~ bin (mode: 493 -> 448)', '+ bin/sh -> busybox', '~ etc/config (size: 10 -> 12)', '- etc/old', '+ etc/old (whiteout)', '+ var (opaque whiteout)', ''].join('\n'),
  );
  assert.equal(differenceText('a', 'b', comparePaths(lower, lower)), '--- a\n+++ b\n(no differences)\n');
});
