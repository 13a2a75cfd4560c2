import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { RootResolver, rootPath } from './root-path';

function withRoot(run: (root: string) => void): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-rootpath-'));
  try {
    run(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('names and symlinks resolve inside the root, however they climb', () => {
  withRoot((root) => {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.symlinkSync('/etc', path.join(root, 'abs'));
    fs.symlinkSync('../../../../etc', path.join(root, 'etc', 'rel'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    assert.equal(rootPath(root, '../../etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(rootPath(root, '/etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(rootPath(root, 'abs/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(rootPath(root, 'etc/rel/shadow'), path.join(root, 'etc/shadow'));
    assert.equal(rootPath(root, 'a/./b/../c'), path.join(root, 'a/c'));
    assert.equal(rootPath(root, '..'), root);
    assert.throws(() => rootPath(root, 'loop/x'), /too many symlinks/);
  });
});

// Trees of directories and symlinks (relative, absolute, climbing, chained)
// under names a, b, c; names built from the same parts plus . and ..
const part = fc.constantFrom('a', 'b', 'c', '.', '..');
const name = fc.array(part, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));
const node = fc.record({
  dir: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
  base: fc.constantFrom('a', 'b', 'c'),
  link: fc.option(fc.tuple(fc.boolean(), name), { nil: undefined }),
});

test('RootResolver resolves every name as rootPath does, from cached parents', () => {
  fc.assert(
    fc.property(fc.array(node, { maxLength: 12 }), fc.array(name, { minLength: 1, maxLength: 20 }), (nodes, names) => {
      withRoot((root) => {
        for (const { dir, base, link } of nodes) {
          const parent = path.join(root, ...dir);
          if (!fs.existsSync(parent) || !fs.lstatSync(parent).isDirectory()) continue;
          const at = path.join(parent, base);
          if (fs.existsSync(at) || fs.lstatSync(at, { throwIfNoEntry: false })) continue;
          if (link) fs.symlinkSync(link[0] ? `/${link[1]}` : link[1], at);
          else fs.mkdirSync(at);
        }
        const resolver = new RootResolver(root);
        for (const n of names) {
          let expected: string | Error;
          try {
            expected = rootPath(root, n);
          } catch (err) {
            expected = err as Error;
          }
          if (expected instanceof Error) {
            assert.throws(() => resolver.resolve(n), /too many symlinks/);
          } else {
            const got = resolver.resolve(n);
            assert.equal(got, expected, n);
            assert.ok(got === root || got.startsWith(`${root}/`));
          }
        }
      });
    }),
    { numRuns: 300 },
  );
});
