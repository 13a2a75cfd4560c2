import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import * as tar from 'tar-stream';
import { isKind } from '../errdefs';
import { isLayerFault } from './layer-format-error';
import { syscalls } from '../native/syscalls';
import { applyTar } from './tar-applier';

type Entry = Parameters<tar.Pack['entry']>[0] & { body?: string };

async function layer(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) pack.entry(header, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function withRoot(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-apply-'));
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  try {
    await fn(root, outside);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const log = pino({ level: 'silent' });
const apply = async (root: string, entries: Entry[]) => applyTar(Readable.from([await layer(entries)]), { root }, log);

test('whiteouts remove lower content; an opaque dir keeps only what this layer unpacked', () =>
  withRoot(async (root) => {
    await apply(root, [
      { name: 'a/', type: 'directory', mode: 0o755 },
      { name: 'a/old', body: '1' },
      { name: 'b/', type: 'directory', mode: 0o755 },
      { name: 'b/old', body: '2' },
      { name: 'c', body: '3' },
    ]);
    await apply(root, [
      { name: 'a/new', body: 'n' },
      { name: 'a/.wh..wh..opq' },
      { name: '.wh.c' },
      { name: 'b/.wh.old' },
    ]);
    assert.deepEqual(fs.readdirSync(path.join(root, 'a')), ['new']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'b')), []);
    assert.equal(fs.existsSync(path.join(root, 'c')), false);
  }));

test('attributes: owner, setuid mode, mtime, and a file replacing a directory; the root entry is skipped', () =>
  withRoot(async (root) => {
    fs.chmodSync(root, 0o755);
    await apply(root, [{ name: './', type: 'directory', mode: 0o700, uid: 7 }, { name: 'x/', type: 'directory' }, { name: 'x/in', body: 'i' }]);
    assert.equal(fs.statSync(root).mode & 0o7777, 0o755);
    assert.equal(fs.statSync(root).uid, 0);
    const mtime = new Date('2020-01-02T03:04:05Z');
    await apply(root, [{ name: 'x', body: 'file now', mode: 0o4755, uid: 1000, gid: 42, mtime }]);
    const st = fs.lstatSync(path.join(root, 'x'));
    assert.ok(st.isFile());
    assert.equal(st.mode & 0o7777, 0o4755);
    assert.deepEqual([st.uid, st.gid], [1000, 42]);
    assert.equal(st.mtimeMs, mtime.getTime());
  }));

test('names that climb, absolute names and symlinks pointing out stay inside the root', () =>
  withRoot(async (root, outside) => {
    await apply(root, [
      { name: `../outside/escaped`, body: 'x' },
      { name: `${outside}/absolute`, body: 'x' },
      { name: 'out', type: 'symlink', linkname: outside },
      { name: 'out/through-link', body: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../..' },
      { name: 'rel/through-relative', body: 'x' },
    ]);
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.ok(fs.existsSync(path.join(root, 'outside/escaped')));
    assert.ok(fs.existsSync(path.join(root, outside, 'absolute')));
    assert.ok(fs.existsSync(path.join(root, outside, 'through-link')));
    assert.ok(fs.existsSync(path.join(root, 'through-relative')));
  }));

test('a hardlink to something outside the root is refused', () =>
  withRoot(async (root, outside) => {
    fs.writeFileSync(path.join(outside, 'secret'), 's');
    const notInSnapshot = (err: Error) => isKind(err, 'InvalidArgument') && /not in the snapshot/.test(err.message);
    await assert.rejects(apply(root, [{ name: 'h', type: 'link', linkname: `${outside}/secret` }]), notInSnapshot);
    await assert.rejects(apply(root, [{ name: 'h', type: 'link', linkname: '../outside/secret' }]), notInSnapshot);
    assert.equal(fs.statSync(path.join(outside, 'secret')).nlink, 1);
  }));

test('neither a hardlink to a symlink nor a replaced directory lets attributes through to the outside', () =>
  withRoot(async (root, outside) => {
    fs.writeFileSync(path.join(outside, 'file'), 'f');
    fs.chmodSync(path.join(outside, 'file'), 0o600);
    const before = fs.statSync(outside).mtimeMs;
    await apply(root, [
      { name: 'evil', type: 'symlink', linkname: path.join(outside, 'file') },
      { name: 'hard', type: 'link', linkname: 'evil', mode: 0o777 },
      { name: 'd/', type: 'directory', mtime: new Date('2001-01-01T00:00:00Z') },
      { name: 'd', type: 'symlink', linkname: outside },
    ]);
    assert.equal(fs.statSync(path.join(outside, 'file')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(outside).mtimeMs, before);
  }));

test('a parent replaced by a symlink lets no directory time out of the root', () =>
  withRoot(async (root, outside) => {
    fs.mkdirSync(path.join(outside, 'b'));
    fs.utimesSync(path.join(outside, 'b'), 1_000_000_000, 1_000_000_000);
    await apply(root, [
      { name: 'a/', type: 'directory' },
      { name: 'a/b/', type: 'directory', mtime: new Date(1_234_567_000) },
      { name: 'a', type: 'symlink', linkname: outside },
    ]);
    assert.equal(fs.statSync(path.join(outside, 'b')).mtimeMs, 1_000_000_000_000);
  }));

test('an entry replaces a directory an earlier entry created implicitly', () =>
  withRoot(async (root) => {
    await apply(root, [
      { name: 'p/q/r', body: 'r' },
      { name: 'p/q', type: 'symlink', linkname: 'elsewhere' },
    ]);
    assert.equal(fs.readlinkSync(path.join(root, 'p/q')), 'elsewhere');
  }));

test('a redeclared path holds its last entry, even while the earlier write is in flight', () =>
  withRoot(async (root) => {
    const entries: Entry[] = [];
    for (let i = 0; i < 20; i++) entries.push({ name: 'f', body: 'x'.repeat(i * 1000), mode: 0o600 + i });
    entries.push({ name: 'd/', type: 'directory' }, { name: 'l', type: 'symlink', linkname: 'd' }, { name: 'l/x', body: 'in d' });
    // Replacing the link must make later entries resolve "l" again, not through it.
    entries.push({ name: 'l/', type: 'directory' }, { name: 'l/y', body: 'in l' });
    entries.push({ name: 'g', type: 'symlink', linkname: 'f' }, { name: 'g', body: 'a file now' });
    await apply(root, entries);
    assert.equal(fs.readFileSync(path.join(root, 'f'), 'utf8'), 'x'.repeat(19_000));
    assert.equal(fs.statSync(path.join(root, 'f')).mode & 0o7777, 0o600 + 19);
    assert.equal(fs.readFileSync(path.join(root, 'd/x'), 'utf8'), 'in d');
    assert.ok(fs.lstatSync(path.join(root, 'l')).isDirectory());
    assert.equal(fs.readFileSync(path.join(root, 'l/y'), 'utf8'), 'in l');
    assert.ok(!fs.existsSync(path.join(root, 'd/y')));
    assert.equal(fs.readFileSync(path.join(root, 'g'), 'utf8'), 'a file now');
  }));

test("xattrs a layer may not set are dropped: trusted.* (overlayfs' own) and security.* but capabilities", () =>
  withRoot(async (root) => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex').toString('latin1');
    const pax = {
      'SCHILY.xattr.trusted.overlay.redirect': '/elsewhere',
      'SCHILY.xattr.trusted.overlay.opaque': 'y',
      'SCHILY.xattr.security.selinux': 'system_u:object_r:shadow_t:s0',
      'SCHILY.xattr.security.capability': cap,
      'SCHILY.xattr.user.note': 'kept',
    };
    await apply(root, [{ name: 'd/', type: 'directory', pax }, { name: 'f', body: 'x', pax }]);
    for (const name of ['d', 'f']) {
      const names = syscalls.llistxattr(path.join(root, name));
      assert.ok(names.includes('user.note') && names.includes('security.capability'), `${name}: ${names}`);
      assert.ok(!names.some((key) => key.startsWith('trusted.') || key === 'security.selinux'), `${name}: ${names}`);
    }
  }));

test('bad PAX ids are InvalidArgument; user xattrs on symlinks are skipped as containerd does', () =>
  withRoot(async (root) => {
    await assert.rejects(apply(root, [{ name: 'f', body: 'x', pax: { uid: 'abc' } }]), (err: Error) =>
      isKind(err, 'InvalidArgument'),
    );
    await apply(root, [{ name: 'l', type: 'symlink', linkname: 't', pax: { 'SCHILY.xattr.user.note': 'n' } }]);
    assert.equal(fs.readlinkSync(path.join(root, 'l')), 't');
  }));

test("a truncated tar is the layer's fault", () =>
  withRoot(async (root) => {
    const whole = await layer([{ name: 'big', body: 'x'.repeat(5000) }]);
    await assert.rejects(applyTar(Readable.from([whole.subarray(0, 1500)]), { root }, log), isLayerFault);
  }));
