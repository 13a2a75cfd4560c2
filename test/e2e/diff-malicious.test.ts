// End to end: hostile and broken layers handed to strata's Diff.Apply. Every
// layer goes into a fresh active snapshot (a child of a committed base that
// itself holds symlinks pointing out of the snapshot). Whatever Apply answers,
// nothing outside that snapshot may change: a sentinel directory next to
// strata's root, /etc/passwd, and no file with the case's marker name may
// appear anywhere but inside the snapshot. A failed Apply must be a gRPC
// error with the expected code; after every case the snapshot can still be
// removed and a small valid layer still applies.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import {
  bulkyEntries,
  corruptedAtTheEnd,
  corruptedInTheMiddle,
  garbage,
  gzip,
  rawEntry,
  rawTar,
  truncated,
  zstd,
} from '../support/malicious-layers';
import { tearDown } from '../support/teardown';
import { mountsUnder } from '../../native-bench/harness/mounts';
import type { StrataBackend } from '../../native-bench/harness/strata';
import {
  applyLayer,
  Cleanup,
  grpcCode,
  logTail,
  sha256,
  startStrataServer,
  writableDirOf,
  writeBlob,
  type StrataServer,
} from '../support/strata-grpc';
import { charDevice, dir, fifo, file, hardlink, symlink, type LayerEntry } from '../support/tar-entries';

const BACKENDS: StrataBackend[] = ['overlayfs', 'native'];

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const TAR = 'application/vnd.oci.image.layer.v1.tar';
const UNKNOWN = 'application/octet-stream';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

/** Enough "../" to climb from any snapshot directory to "/". */
const UP = '../'.repeat(24);

/** Where a case's layer may aim: the sentinel directory and file, and the case's own marker name. */
interface Context {
  /** Absolute path of the sentinel directory. */
  S: string;
  /** The same without its leading "/". */
  Srel: string;
  /** Absolute path of the sentinel file. */
  F: string;
  /** A name unique to this case and run. */
  m: string;
}

interface Built {
  mediaType: string;
  blob: Buffer;
  /** The uncompressed tar, when the case has a well-formed one: a successful Apply must report its digest. */
  tar?: Buffer;
  /** Names that a successful Apply must have created inside the snapshot. */
  inside?: string[];
  /** More checks of the snapshot's own directory after a successful Apply. */
  verify?: (snapshotDir: string) => Promise<void>;
  /** Leave the blob out of the content store. */
  skipUpload?: boolean;
}

interface Case {
  name: string;
  /** 'error': Apply must fail (with `code`, when given); 'applied': it must succeed; 'either': both are fine. */
  expect: 'error' | 'applied' | 'either';
  code?: number;
  build(context: Context): Promise<Built>;
}

/** A hand-made tar, gzipped. */
function tarCase(name: string, make: (context: Context) => Pick<Built, 'inside' | 'verify'> & { entries: LayerEntry[] }): Case {
  return {
    name,
    expect: 'either',
    async build(context) {
      const { entries, inside, verify } = make(context);
      const tar = await rawTar(entries);
      return { mediaType: GZIP, blob: gzip(tar), tar, inside, verify };
    },
  };
}

/** A layer GNU tar writes in its own format (long-name and long-link records, sparse members) from a tree `make` builds. */
function gnuTarCase(name: string, expect: Case['expect'], make: (dir: string, m: string) => { args?: string[]; verify?: Built['verify']; inside?: string[] }): Case {
  return {
    name,
    expect,
    code: expect === 'error' ? INVALID_ARGUMENT : undefined,
    async build(context) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-gnu-tar-'));
      try {
        const { args = [], verify, inside } = make(dir, context.m);
        const tar = execFileSync('tar', ['--format=gnu', ...args, '-cf', '-', '-C', dir, '.'], { maxBuffer: 64 << 20 });
        return { mediaType: GZIP, blob: gzip(tar), tar, verify, inside };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A case that must fail with `code`. */
function refused(c: Case, code: number): Case {
  return { ...c, expect: 'error', code };
}

const LONG = 64 * 1024;

let bulky: Promise<{ tar: Buffer; gz: Buffer; zs: Buffer }> | undefined;

/** A 40-member layer of about 320 KiB, compressed both ways: any cut or damage in the middle lands in its data. */
function bulkyLayer(): Promise<{ tar: Buffer; gz: Buffer; zs: Buffer }> {
  bulky ??= rawTar(bulkyEntries(40, 8192)).then((tar) => ({ tar, gz: gzip(tar), zs: zstd(tar) }));
  return bulky;
}

/** A broken or odd blob, derived from the bulky layer. */
function blobCase(
  name: string,
  mediaType: string,
  expect: Case['expect'],
  code: number | undefined,
  make: (layer: { tar: Buffer; gz: Buffer; zs: Buffer }, context: Context) => Buffer,
  extra: (layer: { tar: Buffer }) => Partial<Built> = () => ({}),
): Case {
  return {
    name,
    expect,
    code,
    async build(context) {
      const layer = await bulkyLayer();
      return { mediaType, blob: make(layer, context), ...extra(layer) };
    },
  };
}

const CASES: Case[] = [
  tarCase('names climbing out with ../', ({ Srel, m }) => ({
    entries: [file(`${UP}${Srel}/${m}`, 'x\n'), file(`${UP}tmp/${m}-tmp`, 'x\n'), file(`etc/${UP}${m}-root`, 'x\n')],
    inside: [m, `${m}-tmp`, `${m}-root`],
  })),
  tarCase('absolute names', ({ S, m }) => ({
    entries: [file(`${S}/${m}`, 'x\n'), file(`/tmp/${m}-tmp`, 'x\n'), file(`/${m}-root`, 'x\n')],
    inside: [m, `${m}-tmp`, `${m}-root`],
  })),
  tarCase('PAX path record climbing out', ({ Srel, m }) => ({
    entries: [rawEntry({ name: 'innocent', type: 'file', mode: 0o644, pax: { path: `${UP}${Srel}/${m}` } }, Buffer.from('x\n'))],
    inside: [m],
  })),
  tarCase('absolute symlinks out, then files through them', ({ S, m }) => ({
    entries: [symlink('out-abs', S), file(`out-abs/${m}`, 'x\n'), symlink('out-tmp', '/tmp'), file(`out-tmp/${m}-tmp`, 'x\n')],
    inside: [m, `${m}-tmp`],
  })),
  tarCase('relative symlinks climbing out, then files through them', ({ Srel, m }) => ({
    entries: [
      symlink('out-rel', `${UP}${Srel}`),
      file(`out-rel/${m}`, 'x\n'),
      dir('a'),
      dir('a/b'),
      symlink('a/b/c', `../../${UP}${Srel}`),
      file(`a/b/c/${m}-nested`, 'x\n'),
      symlink('dotdot', '..'),
      file(`dotdot/${m}-dotdot`, 'x\n'),
    ],
    inside: [m, `${m}-nested`, `${m}-dotdot`],
  })),
  tarCase('symlink out, then a directory and a file through it', ({ S, m }) => ({
    entries: [symlink('out-dir', S), dir('out-dir/newdir', { mode: 0o700 }), file(`out-dir/newdir/${m}`, 'x\n')],
    inside: [m],
  })),
  tarCase('symlink to an outside file, replaced by a file of the same name', ({ F, m }) => ({
    entries: [symlink(m, F), file(m, 'replaced\n', { mode: 0o666 })],
    inside: [m],
    verify: async (snapshotDir) => assert.equal(await fs.promises.readFile(path.join(snapshotDir, m), 'utf8'), 'replaced\n'),
  })),
  tarCase('symlink to an outside file, then a file below it', ({ F, m }) => ({
    entries: [symlink('slink', F), file(`slink/${m}`, 'x\n')],
    inside: [m],
  })),
  tarCase('symlinks in a loop, then a file through them', ({ m }) => ({
    entries: [symlink('loop-a', 'loop-b'), symlink('loop-b', 'loop-a'), file(`loop-a/${m}`, 'x\n')],
  })),
  tarCase('hardlink to ../../etc/passwd', ({ m }) => ({ entries: [hardlink(m, '../../etc/passwd')], inside: [m] })),
  tarCase('hardlink to /etc/passwd', ({ m }) => ({ entries: [hardlink(m, '/etc/passwd')], inside: [m] })),
  tarCase('hardlink to the sentinel file by absolute path', ({ F, m }) => ({ entries: [hardlink(m, F)], inside: [m] })),
  tarCase('hardlink to the sentinel file by a climbing path', ({ Srel, m }) => ({
    entries: [hardlink(m, `${UP}${Srel}/file`)],
    inside: [m],
  })),
  tarCase('hardlink to /etc/passwd when the layer has its own', ({ m }) => ({
    entries: [file('etc/passwd', 'inside\n'), hardlink(m, '/etc/passwd')],
    inside: [m],
    verify: async (snapshotDir) => {
      const link = await fs.promises.stat(path.join(snapshotDir, m));
      const own = await fs.promises.stat(path.join(snapshotDir, 'etc/passwd'));
      assert.equal(link.ino, own.ino, "the link is not to the layer's own etc/passwd");
    },
  })),
  // A hard link to a symlink is a second name of the symlink itself: setting
  // the entry's mode must not follow it. containerd 1.6 chmods a hardlink only
  // when its target is not a symlink, and sets directory times (the case
  // after these) without following symlinks; it leaves the outside alone.
  tarCase('hardlink to a symlink to an outside file, with a mode and owner', ({ F, m }) => ({
    entries: [symlink('evil', F), hardlink(m, 'evil', { mode: 0o777, uid: 4321, gid: 4321 })],
    inside: [m],
  })),
  tarCase('hardlink to a symlink to an outside directory, with a mode and owner', ({ S, m }) => ({
    entries: [symlink('evil-dir', S), hardlink(m, 'evil-dir', { mode: 0o700, uid: 4321, gid: 4321 })],
    inside: [m],
  })),
  tarCase("hardlink to the base layer's symlink out, with a mode", ({ m }) => ({
    entries: [hardlink(m, 'lowlink', { mode: 0o700 })],
    inside: [m],
  })),
  tarCase("hardlink through the base layer's symlink out", ({ m }) => ({ entries: [hardlink(m, 'lowlink/file')], inside: [m] })),
  tarCase('directory replaced by a symlink out (directory times are set last)', ({ S, m }) => ({
    entries: [dir(m, { mtime: new Date('2001-01-01T00:00:00Z') }), symlink(m, S)],
    inside: [m],
  })),
  tarCase('symlink out replaced by a directory with a mode and owner', ({ S, m }) => ({
    entries: [symlink(m, S), dir(m, { mode: 0o700, uid: 4321, gid: 4321 })],
    inside: [m],
  })),
  tarCase("files through the base layer's symlinks out", ({ m }) => ({
    entries: [file(`lowlink/${m}`, 'x\n'), file(`lowrel/${m}-rel`, 'x\n')],
    inside: [m, `${m}-rel`],
  })),
  tarCase('whiteout named .wh... at the root', () => ({ entries: [file('.wh...', '')] })),
  tarCase('whiteout named .wh... in a directory', () => ({ entries: [file('etc/.wh...', '')] })),
  tarCase('whiteout named .wh.', () => ({ entries: [file('etc/.wh.', '')] })),
  tarCase('whiteouts and an opaque marker climbing out', ({ Srel }) => ({
    entries: [file(`${UP}${Srel}/.wh.file`, ''), file(`${UP}${Srel}/.wh.subdir`, ''), file(`${UP}${Srel}/.wh..wh..opq`, '')],
  })),
  tarCase("whiteouts and an opaque marker through the base layer's symlinks out", () => ({
    entries: [file('lowlink/.wh.file', ''), file('lowrel/.wh.subdir', ''), file('lowlink/.wh..wh..opq', '')],
  })),
  tarCase('whiteouts of the sentinel by absolute path', ({ S }) => ({
    entries: [file(`${path.dirname(S)}/.wh.${path.basename(S)}`, ''), file(`${S}/.wh.file`, '')],
  })),
  tarCase('opaque marker for the root, via ../', () => ({ entries: [file(`${UP}.wh..wh..opq`, '')] })),

  refused(tarCase('a fifo where a directory is expected, then a file below it', ({ m }) => ({ entries: [fifo('ff'), file(`ff/${m}`, 'x\n')] })), INVALID_ARGUMENT),
  refused(
    tarCase('a device where a directory is expected, then a file below it', ({ m }) => ({ entries: [charDevice('cd', 1, 3), file(`cd/${m}`, 'x\n')] })),
    INVALID_ARGUMENT,
  ),
  refused(
    tarCase('a directory replaced by a file mid-layer, then a file below it', ({ m }) => ({
      entries: [dir('d'), file('d/a', 'a\n'), file('d', 'now a file\n'), file(`d/${m}`, 'x\n')],
    })),
    INVALID_ARGUMENT,
  ),
  tarCase('a directory replaced by a symlink out mid-layer, then a file below it', ({ S, m }) => ({
    entries: [dir('d2'), file('d2/a', 'a\n'), symlink('d2', S), file(`d2/${m}`, 'x\n')],
    inside: [m],
  })),
  tarCase("the base layer's fifo where a directory is expected, and a whiteout below it", ({ m }) => ({
    entries: [file(`lowfifo/${m}`, 'x\n'), file('lowfifo/.wh.x', '')],
  })),
  refused(
    tarCase('a PAX path of 64 KiB', ({ m }) => ({
      entries: [rawEntry({ name: 'short', type: 'file', mode: 0o644, pax: { path: `${'p/'.repeat(LONG / 2 - 40)}${m}` } }, Buffer.from('x\n'))],
    })),
    INVALID_ARGUMENT,
  ),
  refused(
    tarCase('a PAX linkpath of 64 KiB', ({ m }) => ({
      entries: [rawEntry({ name: m, type: 'symlink', linkname: 'x', mode: 0o777, pax: { linkpath: 'l'.repeat(LONG) } })],
    })),
    INVALID_ARGUMENT,
  ),
  refused(
    tarCase('a name over NAME_MAX, and a path over PATH_MAX', ({ m }) => ({
      entries: [
        rawEntry({ name: 'n', type: 'file', mode: 0o644, pax: { path: `${m}-${'n'.repeat(300)}` } }, Buffer.from('x\n')),
        rawEntry({ name: 'p', type: 'file', mode: 0o644, pax: { path: `${`${'d'.repeat(200)}/`.repeat(25)}${m}` } }, Buffer.from('x\n')),
      ],
    })),
    INVALID_ARGUMENT,
  ),
  refused(
    tarCase('a SCHILY.xattr of 1 MiB', ({ m }) => ({
      entries: [rawEntry({ name: m, type: 'file', mode: 0o644, pax: { 'SCHILY.xattr.user.big': 'x'.repeat(1 << 20) } }, Buffer.from('x\n'))],
    })),
    INVALID_ARGUMENT,
  ),
  refused(
    tarCase('a PAX size of 8 GiB on a 3-byte file', ({ m }) => ({
      entries: [rawEntry({ name: m, type: 'file', mode: 0o644, pax: { size: String(8 * 2 ** 30) } }, Buffer.from('x\n'))],
    })),
    INVALID_ARGUMENT,
  ),
  tarCase('a negative PAX size', ({ m }) => ({
    entries: [rawEntry({ name: m, type: 'file', mode: 0o644, pax: { size: '-512' } }, Buffer.from('x\n'))],
  })),

  gnuTarCase('GNU long-name and long-link records', 'either', (dir, m) => {
    const long = `${m}-${'n'.repeat(150)}`;
    fs.mkdirSync(path.join(dir, 'gnu'));
    fs.writeFileSync(path.join(dir, 'gnu', long), 'long\n');
    fs.symlinkSync(`../${'t'.repeat(150)}`, path.join(dir, 'gnu', `${m}-link`));
    return {
      inside: [long, `${m}-link`],
      verify: async (snapshotDir) => assert.equal(await fs.promises.readlink(path.join(snapshotDir, 'gnu', `${m}-link`)), `../${'t'.repeat(150)}`),
    };
  }),
  gnuTarCase('names that are not UTF-8, raw in GNU tar headers', 'applied', (dir, m) => {
    // GNU tar writes the name's bytes into the header itself (and a long one
    // into a long-name record); both must arrive byte for byte.
    const raw = (name: string): Buffer => Buffer.concat([Buffer.from(`${dir}/${m}-`), Buffer.from(name, 'latin1')]);
    const short = '\xff\xfe\n';
    const long = '\xf0\x28'.repeat(80);
    fs.writeFileSync(raw(short), 'short\n');
    fs.writeFileSync(raw(long), 'long\n');
    fs.symlinkSync(Buffer.from('\xfd\xfc', 'latin1'), raw('link'));
    return {
      verify: async (snapshotDir) => {
        const names = (await fs.promises.readdir(snapshotDir, { encoding: 'buffer' })).map((name) => name.toString('latin1'));
        for (const name of [short, long, 'link']) assert.ok(names.includes(`${m}-${name}`), `${JSON.stringify(name)} is missing from ${JSON.stringify(names)}`);
        const target = await fs.promises.readlink(Buffer.from(`${snapshotDir}/${m}-link`, 'latin1'), { encoding: 'buffer' });
        assert.deepEqual(target, Buffer.from('\xfd\xfc', 'latin1'));
      },
    };
  }),
  gnuTarCase('a GNU sparse file', 'error', (dir, m) => {
    const sparse = path.join(dir, m);
    fs.writeFileSync(sparse, '');
    fs.truncateSync(sparse, 1 << 20);
    fs.appendFileSync(sparse, 'end\n');
    return { args: ['--sparse'] };
  }),

  blobCase('gzip cut in half', GZIP, 'error', INVALID_ARGUMENT, ({ gz }) => truncated(gz, 0.5)),
  blobCase('gzip without its 8-byte trailer', GZIP, 'error', INVALID_ARGUMENT, ({ gz }) => gz.subarray(0, gz.length - 8)),
  blobCase('gzip with a damaged CRC trailer', GZIP, 'error', INVALID_ARGUMENT, ({ gz }) => corruptedAtTheEnd(gz, 8)),
  blobCase('gzip damaged in the middle', GZIP, 'error', INVALID_ARGUMENT, ({ gz }) => corruptedInTheMiddle(gz, 64)),
  blobCase('zstd cut in half', ZSTD, 'error', INVALID_ARGUMENT, ({ zs }) => truncated(zs, 0.5)),
  blobCase('zstd without its 4-byte checksum', ZSTD, 'error', INVALID_ARGUMENT, ({ zs }) => zs.subarray(0, zs.length - 4)),
  blobCase('zstd damaged in the middle', ZSTD, 'error', INVALID_ARGUMENT, ({ zs }) => corruptedInTheMiddle(zs, 64)),
  blobCase('zstd with a damaged checksum', ZSTD, 'error', INVALID_ARGUMENT, ({ zs }) => corruptedAtTheEnd(zs, 4)),
  blobCase('plain tar cut inside a member', TAR, 'error', INVALID_ARGUMENT, ({ tar }) => tar.subarray(0, 512 * 3 + 100)),
  blobCase('garbage as gzip', GZIP, 'error', INVALID_ARGUMENT, () => garbage(4096, 1)),
  blobCase('garbage as zstd', ZSTD, 'error', INVALID_ARGUMENT, () => garbage(4096, 2)),
  blobCase('garbage as plain tar', TAR, 'error', INVALID_ARGUMENT, () => garbage(4096, 3)),
  blobCase('garbage with an unknown media type', UNKNOWN, 'error', UNIMPLEMENTED, () => garbage(4096, 4)),
  blobCase('empty blob as gzip', GZIP, 'error', INVALID_ARGUMENT, () => Buffer.alloc(0)),
  blobCase('valid gzip, then trailing garbage', GZIP, 'either', undefined, ({ gz }) => Buffer.concat([gz, garbage(1024, 5)]), ({ tar }) => ({ tar })),
  blobCase('valid zstd, then trailing garbage', ZSTD, 'either', undefined, ({ zs }) => Buffer.concat([zs, garbage(1024, 6)]), ({ tar }) => ({ tar })),
  blobCase('a blob that is not in the content store', GZIP, 'error', NOT_FOUND, (_layer, { m }) => gzip(Buffer.from(`never uploaded ${m}`)), () => ({
    skipUpload: true,
  })),
];

interface Row {
  backend: StrataBackend;
  name: string;
  outcome: string;
  inside: string;
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.promises.readFile(file)).digest('hex');
}

/** What must never change: every attribute an escape could touch (ctime catches chmod, chown, utimes, xattrs, links). */
async function describePath(absolute: string): Promise<string> {
  const stat = await fs.promises.lstat(absolute, { bigint: true });
  const parts = [
    absolute,
    `ino=${stat.ino}`,
    `mode=${stat.mode.toString(8)}`,
    `owner=${stat.uid}:${stat.gid}`,
    `nlink=${stat.nlink}`,
    `size=${stat.size}`,
    `mtime=${stat.mtimeNs}`,
    `ctime=${stat.ctimeNs}`,
  ];
  if (stat.isFile()) parts.push(`sha256=${await sha256File(absolute)}`);
  if (stat.isSymbolicLink()) parts.push(`target=${await fs.promises.readlink(absolute)}`);
  if (stat.isDirectory()) parts.push(`entries=${(await fs.promises.readdir(absolute)).sort().join(',')}`);
  return parts.join(' ');
}

async function describeTree(root: string): Promise<string[]> {
  const lines = [await describePath(root)];
  const entries = await fs.promises.readdir(root, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = path.join(root, entry.name);
    if (entry.isDirectory()) lines.push(...(await describeTree(child)));
    else lines.push(await describePath(child));
  }
  return lines;
}

/** Every path at or below `root` whose name contains `marker` (symlinks not followed). */
async function findNamed(root: string, marker: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = path.join(directory, entry.name);
      if (entry.name.includes(marker)) found.push(child);
      if (entry.isDirectory()) await walk(child);
    }
  };
  await walk(root);
  return found;
}

/** Names containing `marker` directly in one of `directories` (not recursive: for /, /tmp, /etc). */
async function namedIn(directories: string[], marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const directory of directories) {
    for (const name of await fs.promises.readdir(directory)) {
      if (name.includes(marker)) found.push(path.join(directory, name));
    }
  }
  return found;
}

/** Lines of a host-state description that differ, as "before: ..." and "after: ...". */
function changes(before: string[], after: string[]): string[] {
  return [
    ...before.filter((line) => !after.includes(line)).map((line) => `before: ${line}`),
    ...after.filter((line) => !before.includes(line)).map((line) => `after:  ${line}`),
  ];
}

/** The names of a tar's members, as a reader sees them (PAX records applied). */
async function memberNames(tar: Buffer): Promise<string[]> {
  const extractor = extract();
  const names: string[] = [];
  const done = (async () => {
    for await (const entry of extractor) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extractor.end(tar);
  await done;
  return names;
}

describe('Diff.Apply on strata with hostile and broken layers', { timeout: 150_000 }, () => {
  let workDir = '';
  let sentinel = '';
  /** Unique to this run, so a marker found anywhere was written by this test. */
  const runMarker = `strata-pwned-${process.pid}-${Date.now().toString(36)}`;
  const cleanup = new Cleanup();
  const servers = new Map<StrataBackend, StrataServer>();
  const serverErrors = new Map<StrataBackend, unknown>();
  const rows: Row[] = [];
  /** Each case's layer, built once and given to both backends. */
  const built = new Map<number, Promise<Built>>();

  function context(index: number): Context {
    return { S: sentinel, Srel: sentinel.slice(1), F: path.join(sentinel, 'file'), m: `${runMarker}-c${String(index).padStart(3, '0')}` };
  }

  function buildCase(index: number): Promise<Built> {
    let layer = built.get(index);
    if (layer === undefined) {
      layer = CASES[index].build(context(index));
      built.set(index, layer);
    }
    return layer;
  }

  /** (Re)creates the sentinel directory: a file, a directory with a file, a symlink. */
  async function makeSentinel(): Promise<void> {
    await fs.promises.rm(sentinel, { recursive: true, force: true });
    await fs.promises.mkdir(path.join(sentinel, 'subdir'), { recursive: true });
    await fs.promises.writeFile(path.join(sentinel, 'file'), 'the sentinel must never change\n', { mode: 0o640 });
    await fs.promises.chmod(path.join(sentinel, 'file'), 0o640);
    await fs.promises.writeFile(path.join(sentinel, 'subdir', 'inner'), 'inner\n');
    await fs.promises.symlink('file', path.join(sentinel, 'link'));
    await fs.promises.chmod(sentinel, 0o755);
  }

  /** The sentinel tree and the host files a link could reach. */
  async function hostState(): Promise<string[]> {
    return [...(await describeTree(sentinel)), await describePath('/etc/passwd'), await describePath('/etc/hostname')];
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-diff-malicious-'));
    sentinel = path.join(workDir, 'sentinel');
    await makeSentinel();

    // The base every case's snapshot is a child of: symlinks out, for layers to write through.
    const baseTar = await rawTar([
      dir('etc'),
      file('etc/hostname', 'base\n'),
      file('keep', 'keep\n'),
      symlink('lowlink', sentinel),
      symlink('lowrel', `${UP}${sentinel.slice(1)}`),
      fifo('lowfifo'),
    ]);
    const baseBlob = gzip(baseTar);
    for (const backend of BACKENDS) {
      try {
        const server = await startStrataServer(workDir, `strata-${backend}`, backend);
        servers.set(backend, server);
        cleanup.defer(`stop strata-${backend}`, () => server.stop());
        const digest = await writeBlob(server.client.content, baseBlob);
        const mounts = await server.snapshots.prepare('base-active', '');
        const applied = await applyLayer(server.client.diff, { media_type: GZIP, digest, size: baseBlob.length }, mounts);
        assert.equal(applied.digest, sha256(baseTar));
        await server.snapshots.commit('base', 'base-active');
      } catch (error) {
        // Reported by this backend's tests; the other backend still runs.
        serverErrors.set(backend, error);
      }
    }
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  function serverFor(backend: StrataBackend): StrataServer {
    if (serverErrors.has(backend)) throw serverErrors.get(backend);
    const server = servers.get(backend);
    assert.ok(server, `no strata for ${backend}`);
    return server;
  }

  it('(fixture check) hostile names survive packing unchanged', async () => {
    const names = async (caseName: string): Promise<string[]> => {
      const index = CASES.findIndex((c) => c.name === caseName);
      const { tar } = await buildCase(index);
      assert.ok(tar);
      return memberNames(tar);
    };
    assert.ok((await names('names climbing out with ../'))[0].startsWith(`${UP}${sentinel.slice(1)}/`));
    assert.ok((await names('PAX path record climbing out'))[0].startsWith(UP), 'the PAX path record does not override the name');
    assert.ok((await names('absolute names'))[0].startsWith(`${sentinel}/`));
    assert.deepEqual(await names('whiteout named .wh... at the root'), ['.wh...']);
  });

  for (const backend of BACKENDS) {
    for (const [index, c] of CASES.entries()) {
      it(`${backend}: ${c.name}`, async () => {
        const server = serverFor(backend);
        const layer = await buildCase(index);
        const { m: marker } = context(index);
        const digest = sha256(layer.blob);
        if (!layer.skipUpload) await writeBlob(server.client.content, layer.blob);
        const key = `case-${index}`;
        const mounts = await server.snapshots.prepare(key, 'base');
        const hostBefore = await hostState();
        const snapshotDir = writableDirOf(mounts);

        let outcome: { ok: true; digest: string } | { ok: false; code: number; message: string };
        try {
          const applied = await applyLayer(server.client.diff, { media_type: layer.mediaType, digest, size: layer.blob.length }, mounts);
          outcome = { ok: true, digest: applied.digest };
        } catch (error) {
          const code = grpcCode(error);
          if (code === undefined) throw error;
          outcome = { ok: false, code, message: error instanceof Error ? error.message : String(error) };
        }

        const insideFound = (await findNamed(snapshotDir, marker)).map((p) => path.relative(snapshotDir, p));
        rows.push({
          backend,
          name: c.name,
          outcome: outcome.ok ? 'applied' : `error ${outcome.code}: ${outcome.message.replace(/\s+/g, ' ').slice(0, 120)}`,
          inside: insideFound.map((p) => p.replace(marker, 'M')).join(' '),
        });

        // Checked first, recorded, then the snapshot is removed and the canary applied whatever happened.
        let failure: unknown;
        try {
          // Nothing outside the snapshot changed. A changed sentinel is made afresh, so later cases start clean.
          const changed = changes(hostBefore, await hostState());
          if (changed.length > 0) {
            rows[rows.length - 1].outcome += ' [SENTINEL CHANGED]';
            await makeSentinel();
          }
          assert.deepEqual(changed, [], `${c.name}: changed outside the snapshot:\n  ${changed.join('\n  ')}`);
          const everywhere = await findNamed(workDir, marker);
          const outside = everywhere.filter((p) => p !== snapshotDir && !p.startsWith(`${snapshotDir}/`));
          assert.deepEqual(outside, [], `${c.name}: written outside the snapshot`);
          assert.deepEqual(await namedIn(['/', '/tmp', '/etc', os.tmpdir()], marker), [], `${c.name}: written on the host`);
          assert.deepEqual(await mountsUnder(server.root), [], `${c.name}: Apply left a mount behind`);

          if (outcome.ok) {
            assert.notEqual(c.expect, 'error', `${c.name}: Apply succeeded (digest ${outcome.digest}); an error was expected`);
            if (layer.tar) assert.equal(outcome.digest, sha256(layer.tar), `${c.name}: applied digest`);
            for (const name of layer.inside ?? []) {
              assert.ok(
                insideFound.some((found) => path.basename(found) === name),
                `${c.name}: ${name} is not inside the snapshot (found: ${insideFound.join(', ') || 'nothing'})`,
              );
            }
            await layer.verify?.(snapshotDir);
          } else if (c.expect === 'applied') {
            assert.fail(`${c.name}: Apply failed (${outcome.message}); it should have applied`);
          } else if (c.code !== undefined) {
            assert.equal(outcome.code, c.code, `${c.name}: gRPC code (message: ${outcome.message})\n${logTail(server.logFile, 10)}`);
          }
        } catch (error) {
          failure = error;
        }

        await server.snapshots.remove(key);
        assert.equal(fs.existsSync(snapshotDir), false, `${c.name}: Remove left ${snapshotDir} behind\n${logTail(server.logFile, 10)}`);

        // The service still serves: a small valid layer applies.
        const canaryTar = await rawTar([dir('canary'), file(`canary/after-case-${index}`, `${c.name}\n`)]);
        const canaryBlob = gzip(canaryTar);
        const canaryDigest = await writeBlob(server.client.content, canaryBlob);
        const canaryKey = `canary-${index}`;
        const canaryMounts = await server.snapshots.prepare(canaryKey, 'base');
        const canary = await applyLayer(server.client.diff, { media_type: GZIP, digest: canaryDigest, size: canaryBlob.length }, canaryMounts);
        assert.equal(canary.digest, sha256(canaryTar), 'the canary layer after the case');
        const canaryFile = path.join(writableDirOf(canaryMounts), `canary/after-case-${index}`);
        assert.equal(await fs.promises.readFile(canaryFile, 'utf8'), `${c.name}\n`);
        await server.snapshots.remove(canaryKey);
        if (failure !== undefined) throw failure;
      });
    }
  }

  it('(summary) case → outcome', (t) => {
    const widths = [9, Math.max(...rows.map((r) => r.name.length), 4), Math.max(...rows.map((r) => r.outcome.length), 7)];
    const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
    const lines = [
      line(['backend', 'case', 'outcome', 'marker M found inside the snapshot at']),
      ...rows.map((r) => line([r.backend, r.name, r.outcome, r.inside])),
    ];
    for (const text of lines) t.diagnostic(text);
    console.log(lines.join('\n'));
  });
});
