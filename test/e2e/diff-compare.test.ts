// End to end: strata's Diff RPC (compare) between a committed snapshot and an
// active child full of changes, both made through strata's Snapshots service
// and written through their mounts. The layer it stores in the content store
// must carry its diff ID and the caller's labels, hold only the changes, and
// applied onto a fresh child of the same parent (with strata's own Apply) it
// must rebuild the child's tree exactly, for every layer media type and both
// backends.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { extract } from 'tar-stream';
import '../../src/diff/pax-records';
import { unaryCall } from '../../src/client/connect';
import { tearDown } from '../support/teardown';
import { startContainerd, NAMESPACE } from '../../native-bench/harness/containerd';
import { unmountAllUnder } from '../../native-bench/harness/mounts';
import { uncompressLayer } from '../support/oci-archive-reader';
import type { StrataBackend } from '../../native-bench/harness/strata';
import {
  applyLayer,
  Cleanup,
  contentInfo,
  grpcCode,
  logTail,
  mountAll,
  readBlob,
  sha256,
  startStrataServer,
  UNCOMPRESSED_LABEL,
  type StrataServer,
  type WireDescriptor,
  type WireMount,
} from '../support/strata-grpc';
import { diffTrees, formatDifferences, readTree, type Tree } from '../support/tree';

const execFileAsync = promisify(execFile);

const BACKENDS: StrataBackend[] = ['overlayfs', 'native'];

const MEDIA_TYPES = [
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.v1.tar',
];

const NOT_FOUND = 5;

/**
 * What a layer cannot carry, so the rebuilt tree may differ from the upper
 * one, per backend. A tar entry for a directory that stays a directory is
 * merged into the existing one on a plain (native) snapshot, as containerd's
 * applier does, so an xattr removed from such a directory comes back from the
 * lower snapshot. On overlayfs the entry becomes a new upper directory, which
 * hides the lower one's xattrs.
 */
const KNOWN_DIFFERENCES: Record<StrataBackend, string[]> = {
  overlayfs: [],
  native: [`xattr-dir: xattrs upper=[] rebuilt=[["user.d","0x${Buffer.from('on the directory').toString('hex')}"]]`],
};

/** The lower snapshot's content, written through its mount. */
async function writeLower(root: string): Promise<void> {
  const write = (relative: string, content: string, mode = 0o644): Promise<void> =>
    fs.promises.writeFile(path.join(root, relative), content, { mode });
  const mkdir = async (relative: string, mode = 0o755): Promise<void> => {
    await fs.promises.mkdir(path.join(root, relative), { mode, recursive: true });
  };

  await mkdir('keep');
  await write('keep/unchanged.txt', 'never touched\n');
  await write('modify.txt', 'version 1\n');
  await write('delete-me.txt', 'doomed\n');
  await mkdir('gone-dir/a');
  await write('gone-dir/a/b.txt', 'b\n');
  await write('gone-dir/c.txt', 'c\n');
  await write('file-to-dir', 'a file for now\n');
  await mkdir('dir-to-file');
  await write('dir-to-file/child', 'goes with its directory\n');
  await write('chmod-me.sh', '#!/bin/sh\n');
  await write('chown-me', 'owned by root for now\n');
  await write('xattr-file', 'xattrs change\n');
  await setXattr(path.join(root, 'xattr-file'), 'user.a', 'one');
  await mkdir('xattr-dir');
  await write('xattr-dir/inside', 'inside\n');
  await setXattr(path.join(root, 'xattr-dir'), 'user.d', 'on the directory');
  await fs.promises.symlink('keep/unchanged.txt', path.join(root, 'link-retarget'));
  await write('file-to-link', 'a file for now\n');
  await mkdir('remade-dir/sub');
  await write('remade-dir/old1', 'old 1\n');
  await write('remade-dir/old2', 'old 2\n');
  await write('remade-dir/sub/old3', 'old 3\n');
  await mkdir('deep/nested/dir');
  await write('deep/nested/dir/file', 'deep\n');
  await write('hard-a', 'shared by two names\n');
  await fs.promises.link(path.join(root, 'hard-a'), path.join(root, 'hard-b'));
  await write('hard-c', 'also shared, left alone\n');
  await fs.promises.link(path.join(root, 'hard-c'), path.join(root, 'hard-d'));
  await mkdir('mode-dir');
  await write('mode-dir/x', 'x\n');
  await mkdir('owner-dir');
  await fs.promises.chmod(path.join(root, 'file-to-dir'), 0o644);
  const raw = rawPaths(root);
  await fs.promises.writeFile(raw(`raw-${bytes(0xff, 0xfe)}`), 'not UTF-8, version 1\n');
  await fs.promises.writeFile(raw(`raw-doomed${bytes(0xfc)}`), 'not UTF-8, doomed\n');
  await fs.promises.mkdir(raw(`raw-dir${bytes(0x80)}`));
  await fs.promises.writeFile(raw(`raw-dir${bytes(0x80)}/${bytes(0xc3, 0x28)}`), 'left alone\n');
}

/** Raw bytes as a byte string, the form names take in trees (one latin1 character per byte). */
function bytes(...values: number[]): string {
  return Buffer.from(values).toString('latin1');
}

/** A byte-string path under root as the bytes the kernel takes. */
function rawPaths(root: string): (relative: string) => Buffer {
  return (relative) => Buffer.from(path.join(root, relative), 'latin1');
}

/** The upper snapshot's changes on top of the lower, made through its mount (so overlay makes its own whiteouts and opaque dirs). */
async function changeUpper(root: string): Promise<void> {
  const at = (relative: string): string => path.join(root, relative);
  await fs.promises.writeFile(at('added.txt'), 'new\n');
  await fs.promises.mkdir(at('added-dir/sub'), { recursive: true });
  await fs.promises.writeFile(at('added-dir/sub/file'), 'new and deep\n');
  await fs.promises.writeFile(at('empty-new'), '');
  await fs.promises.writeFile(at('modify.txt'), 'version 2, longer than before\n');
  await fs.promises.rm(at('delete-me.txt'));
  await fs.promises.rm(at('gone-dir'), { recursive: true });
  await fs.promises.rm(at('file-to-dir'));
  await fs.promises.mkdir(at('file-to-dir'), 0o750);
  await fs.promises.writeFile(at('file-to-dir/child'), 'now inside a directory\n');
  await fs.promises.rm(at('dir-to-file'), { recursive: true });
  await fs.promises.writeFile(at('dir-to-file'), 'now a file\n');
  await fs.promises.chmod(at('chmod-me.sh'), 0o755);
  await fs.promises.writeFile(at('setuid-new'), '#!/bin/sh\n');
  await fs.promises.chmod(at('setuid-new'), 0o4755);
  await fs.promises.chown(at('chown-me'), 1000, 1000);
  await setXattr(at('xattr-file'), 'user.a', 'two');
  await setXattr(at('xattr-file'), 'user.b', 'added');
  await execFileAsync('setfattr', ['-x', 'user.d', at('xattr-dir')]);
  await setXattr(at('keep'), 'user.k', 'metadata only');
  await fs.promises.symlink('/etc/hostname', at('new-link'));
  await fs.promises.rm(at('link-retarget'));
  await fs.promises.symlink('modify.txt', at('link-retarget'));
  await fs.promises.rm(at('file-to-link'));
  await fs.promises.symlink('keep', at('file-to-link'));
  await fs.promises.rm(at('remade-dir'), { recursive: true });
  await fs.promises.mkdir(at('remade-dir'));
  await fs.promises.writeFile(at('remade-dir/fresh'), 'the only one now\n');
  await fs.promises.writeFile(at('new-hard-1'), 'two new names\n');
  await fs.promises.link(at('new-hard-1'), at('new-hard-2'));
  await execFileAsync('mkfifo', ['-m', '0620', at('new-fifo')]);
  await execFileAsync('mknod', ['-m', '0666', at('new-null'), 'c', '1', '3']);
  await fs.promises.writeFile(at('deep/nested/dir/new-file'), 'added next to an unchanged file\n');
  await fs.promises.writeFile(at('hard-a'), 'changed through one of two names\n');
  await fs.promises.chmod(at('mode-dir'), 0o700);
  await fs.promises.chown(at('owner-dir'), 1000, 42);
  // Names that are not UTF-8 (and one with a newline) go through byte for byte.
  const raw = rawPaths(root);
  await fs.promises.writeFile(raw(`raw-${bytes(0xff, 0xfe)}`), 'not UTF-8, version 2\n');
  await fs.promises.rm(raw(`raw-doomed${bytes(0xfc)}`));
  await fs.promises.writeFile(raw(`raw-new${bytes(0xfd)}\nline`), 'added\n');
  await fs.promises.symlink(Buffer.from(`raw-target${bytes(0xfe)}`, 'latin1'), raw(`raw-link${bytes(0xff)}`));
  await fs.promises.writeFile(raw(`raw-hard${bytes(0xfa)}`), 'two raw names\n');
  await fs.promises.link(raw(`raw-hard${bytes(0xfa)}`), raw(`raw-hard${bytes(0xfb)}`));
  await fs.promises.writeFile(raw(`raw-dir${bytes(0x80)}/new${bytes(0xf9)}`), 'added beside\n');
}

function setXattr(file: string, name: string, value: string): Promise<unknown> {
  return execFileAsync('setfattr', ['-h', '-n', name, '-v', value, file]);
}

/** Layers carry times in whole seconds (as containerd writes them), so trees are compared at that precision. */
function toSeconds(tree: Tree): Tree {
  return new Map(
    [...tree].map(([relative, entry]) => [
      relative,
      { ...entry, mtimeNs: entry.mtimeNs === undefined ? undefined : entry.mtimeNs - (entry.mtimeNs % 1_000_000_000n) },
    ]),
  );
}


/** Member names, types and times (seconds) of a tar, in order. */
async function members(tar: Buffer): Promise<{ name: string; type: string; mtime: number }[]> {
  const extractor = extract({ filenameEncoding: 'latin1' } as Parameters<typeof extract>[0]);
  const found: { name: string; type: string; mtime: number }[] = [];
  const done = (async () => {
    for await (const entry of extractor) {
      found.push({ name: entry.header.name.replace(/\/$/, ''), type: entry.header.type ?? 'file', mtime: (entry.header.mtime?.getTime() ?? 0) / 1000 });
      entry.resume();
    }
  })();
  extractor.end(tar);
  await done;
  return found;
}

/**
 * A tar member as an applier sees it, for comparing two writers' layers:
 * whiteout times are left out (containerd stamps them with the time of the
 * diff), as are user and group names (appliers use the numeric ids).
 */
async function describeMembers(tar: Buffer): Promise<string[]> {
  const extractor = extract({ filenameEncoding: 'latin1' } as Parameters<typeof extract>[0]);
  const described: string[] = [];
  const done = (async () => {
    for await (const entry of extractor) {
      const header = entry.header;
      const name = header.name.replace(/\/$/, '');
      const hash = createHash('sha256');
      for await (const chunk of entry) hash.update(chunk as Buffer);
      const isWhiteout = path.posix.basename(name).startsWith('.wh.');
      const isDevice = header.type === 'character-device' || header.type === 'block-device';
      const xattrs = Object.entries(header.pax ?? {})
        .filter(([key]) => key.startsWith('SCHILY.xattr.'))
        .sort(([a], [b]) => (a < b ? -1 : 1));
      described.push(
        [
          name,
          header.type,
          // Whiteout modes mean nothing to appliers (containerd writes 0; tar-stream cannot).
          isWhiteout ? 'mode=(whiteout)' : `mode=0${((header.mode ?? 0) & 0o7777).toString(8)}`,
          `owner=${header.uid}:${header.gid}`,
          `size=${header.size}`,
          isWhiteout ? 'mtime=(whiteout)' : `mtime=${header.mtime?.toISOString()}`,
          `link=${header.linkname ?? ''}`,
          isDevice ? `device=${header.devmajor}:${header.devminor}` : '',
          `xattrs=${JSON.stringify(xattrs)}`,
          header.type === 'file' ? `sha256=${hash.digest('hex')}` : '',
        ].join(' '),
      );
    }
  })();
  extractor.end(tar);
  await done;
  return described;
}

/** ctr's --mounts JSON (Go field names) as wire mounts. */
function fromCtrMounts(printed: string): WireMount[] {
  const parsed = JSON.parse(printed) as { Type?: string; type?: string; Source?: string; source?: string; Options?: string[] | null; options?: string[] | null }[];
  return parsed.map((m) => ({ type: m.Type ?? m.type ?? '', source: m.Source ?? m.source ?? '', target: '', options: m.Options ?? m.options ?? [] }));
}

/**
 * Members only strata writes: changes to xattrs alone. containerd 1.6's
 * walker (continuity's fs.Changes) compares only security.capability among
 * xattrs, so it misses these; strata's layer is the faithful one.
 */
const STRATA_ONLY = ['keep', 'xattr-dir', 'xattr-file'];

function memberName(described: string): string {
  return described.slice(0, described.indexOf(' '));
}

/** A directory member that some other member of the same layer lies below. */
function isParentDirectory(described: string, names: string[]): boolean {
  const name = memberName(described);
  return described.startsWith(`${name} directory `) && names.some((other) => other.startsWith(`${name}/`));
}

interface Pair {
  server: StrataServer;
  /** Mounts of a view of the committed lower snapshot. */
  left: WireMount[];
  /** Mounts of the active upper snapshot. */
  right: WireMount[];
  upperTree: Tree;
  lowerTree: Tree;
}

describe('Diff.Diff (compare) on strata, checked by applying its layer', { timeout: 150_000 }, () => {
  let workDir = '';
  const cleanup = new Cleanup();
  const pairs = new Map<StrataBackend, Promise<Pair>>();

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-diff-compare-'));
  });

  after(() => tearDown(workDir, [() => cleanup.run()]));

  /** A strata with the lower (committed) and upper (active, changed) snapshots, made once per backend. */
  function pair(backend: StrataBackend): Promise<Pair> {
    let made = pairs.get(backend);
    if (made === undefined) {
      made = (async () => {
        const server = await startStrataServer(workDir, `strata-${backend}`, backend);
        cleanup.defer(`stop strata-${backend}`, () => server.stop());
        const mnt = (name: string): string => path.join(workDir, 'mnt', backend, name);

        const lowerMounts = await server.snapshots.prepare('lower-active', '');
        await mountAll(lowerMounts, mnt('lower'));
        await writeLower(mnt('lower'));
        const lowerTree = await readTree(mnt('lower'));
        await unmountAllUnder(mnt('lower'));
        await server.snapshots.commit('lower', 'lower-active');

        const right = await server.snapshots.prepare('upper', 'lower');
        await mountAll(right, mnt('upper'));
        await changeUpper(mnt('upper'));
        const upperTree = await readTree(mnt('upper'));
        // Unmounted before strata reads it: an overlay upper dir must not be in two mounts at once.
        await unmountAllUnder(mnt('upper'));

        const left = await server.snapshots.view('lower-view', 'lower');
        return { server, left, right, upperTree, lowerTree };
      })();
      pairs.set(backend, made);
    }
    return made;
  }

  async function diff(server: StrataServer, left: WireMount[], right: WireMount[], mediaType: string, ref: string, labels: Record<string, string>, more: object = {}): Promise<WireDescriptor> {
    try {
      const response = await unaryCall<object, { diff: WireDescriptor | null }>(server.client.diff, 'Diff', {
        left,
        right,
        media_type: mediaType,
        ref,
        labels,
        ...more,
      });
      assert.ok(response.diff, 'Diff answered without a descriptor');
      return response.diff;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw Object.assign(new Error(`Diff (${mediaType}) failed: ${message}\n--- strata log ---\n${logTail(server.logFile)}`), {
        code: grpcCode(error),
      });
    }
  }

  /** Applies `layer` onto a fresh child of the lower snapshot and reads the result through its mounts. */
  async function applyOntoLower(backend: StrataBackend, server: StrataServer, key: string, layer: WireDescriptor, expectedDiffId: string): Promise<Tree> {
    const mounts = await server.snapshots.prepare(key, 'lower');
    const applied = await applyLayer(server.client.diff, { media_type: layer.media_type, digest: layer.digest, size: layer.size }, mounts);
    assert.equal(applied.digest, expectedDiffId, 'Apply of the produced layer reports another diff ID');
    const target = path.join(workDir, 'mnt', backend, key);
    await mountAll(mounts, target);
    try {
      return await readTree(target);
    } finally {
      await unmountAllUnder(target);
    }
  }

  const crossChecks = new Map<StrataBackend, Promise<{ theirs: string[]; ours: string[] }>>();

  /**
   * The same lower/upper pair, made by containerd 1.6 on strata (as its proxy
   * snapshotter), diffed by containerd's own walking differ (`ctr snapshots
   * diff`) and by strata's Diff RPC; both layers, described member by member.
   */
  function crossCheck(backend: StrataBackend): Promise<{ theirs: string[]; ours: string[] }> {
    let checked = crossChecks.get(backend);
    if (checked === undefined) {
      checked = (async () => {
        const proxy = `strata-proxy-${backend}`;
        const server = await startStrataServer(workDir, proxy, backend);
        cleanup.defer(`stop ${proxy}`, () => server.stop());
        const containerd = await startContainerd({ [proxy]: server.address });
        cleanup.defer(`stop containerd for ${proxy}`, () => containerd.stop());
        const ctr = (args: string[]): Promise<string> => containerd.ctr(['snapshots', '--snapshotter', proxy, ...args]);
        const mnt = (name: string): string => path.join(workDir, 'mnt', proxy, name);

        const lowerMounts = fromCtrMounts(await ctr(['prepare', '--mounts', 'lower-active']));
        await mountAll(lowerMounts, mnt('lower'));
        await writeLower(mnt('lower'));
        await unmountAllUnder(mnt('lower'));
        await ctr(['commit', 'lower', 'lower-active']);
        const right = fromCtrMounts(await ctr(['prepare', '--mounts', 'upper', 'lower']));
        await mountAll(right, mnt('upper'));
        await changeUpper(mnt('upper'));
        await unmountAllUnder(mnt('upper'));
        const left = fromCtrMounts(await ctr(['view', '--mounts', 'lower-view', 'lower']));

        const plain = MEDIA_TYPES[2];
        const theirs = await new Promise<Buffer>((resolve, reject) => {
          execFile(
            'ctr',
            ['--address', containerd.address, '-n', NAMESPACE, 'snapshots', '--snapshotter', proxy, 'diff', '--media-type', plain, 'lower', 'upper'],
            { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => (error ? reject(new Error(`ctr snapshots diff failed: ${stderr.toString()}`)) : resolve(stdout)),
          );
        });
        const layer = await diff(server, left, right, plain, `strata-e2e-vs-containerd-${backend}`, {});
        const ours = await readBlob(server.client.content, layer.digest);
        return { theirs: await describeMembers(theirs), ours: await describeMembers(ours) };
      })();
      crossChecks.set(backend, checked);
    }
    return checked;
  }

  for (const backend of BACKENDS) {
    it(`(fixture check) ${backend}: the upper snapshot really differs from the lower`, async () => {
      const { upperTree, lowerTree } = await pair(backend);
      const differences = diffTrees(lowerTree, upperTree, ['lower', 'upper']);
      assert.ok(differences.length > 30, formatDifferences(differences));
      assert.equal(upperTree.get('delete-me.txt'), undefined);
      assert.equal(upperTree.get('new-fifo')?.type, 'fifo');
      assert.deepEqual(upperTree.get('new-hard-1')?.hardlinks, ['new-hard-2']);
      assert.equal(upperTree.get('xattr-file')?.xattrs['user.a'], `0x${Buffer.from('two').toString('hex')}`);
    });

    for (const mediaType of MEDIA_TYPES) {
      it(`${backend}: Diff as ${mediaType} stores a labelled layer that rebuilds the upper tree`, async () => {
        const { server, left, right, upperTree } = await pair(backend);
        const short = mediaType.slice(mediaType.lastIndexOf('.') + 1);
        const ref = `strata-e2e-diff-${backend}-${short}`;
        const labels = { 'strata-e2e/purpose': 'diff-compare', 'strata-e2e/media': short };

        const layer = await diff(server, left, right, mediaType, ref, labels);
        assert.equal(layer.media_type, mediaType);
        assert.match(layer.digest, /^sha256:[0-9a-f]{64}$/);

        // In the content store, labelled with its diff ID and the caller's labels.
        const info = await contentInfo(server.client.content, layer.digest);
        assert.equal(info.size, layer.size, 'Info size and descriptor size differ');
        for (const [key, value] of Object.entries(labels)) assert.equal(info.labels[key], value, `label ${key} not on the blob`);
        const diffId = info.labels[UNCOMPRESSED_LABEL];
        assert.match(diffId ?? '', /^sha256:[0-9a-f]{64}$/, `no ${UNCOMPRESSED_LABEL} label: ${JSON.stringify(info.labels)}`);

        // The bytes match the descriptor and the label.
        const blob = await readBlob(server.client.content, layer.digest);
        assert.equal(blob.length, layer.size);
        assert.equal(sha256(blob), layer.digest);
        const tar = uncompressLayer(mediaType, blob);
        assert.equal(sha256(tar), diffId, `${UNCOMPRESSED_LABEL} is not the digest of the uncompressed layer`);
        if (short === 'tar') assert.equal(layer.digest, diffId);

        // The ingest under the ref is gone once committed.
        await assert.rejects(unaryCall(server.client.content, 'Status', { ref }), (error) => grpcCode(error) === NOT_FOUND);

        // Only changes: whiteouts for what went, nothing for what stayed.
        const names = (await members(tar)).map((member) => member.name);
        for (const whiteout of ['.wh.delete-me.txt', '.wh.gone-dir']) assert.ok(names.includes(whiteout), `${whiteout} missing: ${names.join(' ')}`);
        for (const unchanged of ['keep/unchanged.txt', 'deep/nested/dir/file', 'hard-c', 'hard-d', 'mode-dir/x', 'xattr-dir/inside']) {
          assert.ok(!names.includes(unchanged), `${unchanged} did not change, yet it is in the layer`);
        }
        assert.ok(!names.some((name) => name.startsWith('gone-dir/')), 'entries below a deleted directory');

        // Applied onto a fresh child of the lower snapshot, it rebuilds the upper.
        const rebuilt = await applyOntoLower(backend, server, `applied-${short}`, layer, diffId);
        const differences = diffTrees(toSeconds(upperTree), toSeconds(rebuilt), ['upper', 'rebuilt']);
        assert.deepEqual(differences, KNOWN_DIFFERENCES[backend], formatDifferences(differences));
      });
    }

    it(`${backend}: a second Diff of the same snapshots gives the same blob`, async () => {
      const { server, left, right } = await pair(backend);
      const mediaType = MEDIA_TYPES[0];
      const first = await diff(server, left, right, mediaType, `strata-e2e-again-1-${backend}`, {});
      const second = await diff(server, left, right, mediaType, `strata-e2e-again-2-${backend}`, { 'strata-e2e/second': 'yes' });
      assert.deepEqual(second, first);
      const info = await contentInfo(server.client.content, second.digest);
      assert.match(info.labels[UNCOMPRESSED_LABEL] ?? '', /^sha256:/);
    });

    it(`${backend}: Diff with a source_date_epoch (containerd 1.7+) writes no time later than it`, async () => {
      const { server, left, right } = await pair(backend);
      const plain = MEDIA_TYPES[2];
      const unbounded = await members(uncompressLayer(plain, await readBlob(server.client.content, (await diff(server, left, right, plain, `strata-e2e-epoch-0-${backend}`, {})).digest)));
      // Before every change the fixture made; whiteouts, at 0, stay there.
      const epoch = Math.min(...unbounded.map((m) => m.mtime).filter((t) => t > 0)) - 100;
      const layer = await diff(server, left, right, plain, `strata-e2e-epoch-${backend}`, {}, { source_date_epoch: { seconds: epoch, nanos: 500_000_000 } });
      const bounded = await members(uncompressLayer(plain, await readBlob(server.client.content, layer.digest)));
      assert.deepEqual(bounded.map((m) => m.name), unbounded.map((m) => m.name));
      assert.deepEqual(bounded.map((m) => m.mtime), unbounded.map((m) => Math.min(m.mtime, epoch)));
      assert.ok(bounded.some((m) => m.mtime === 0) && bounded.some((m) => m.mtime === epoch));
    });

    it(`${backend}: Diff of a snapshot against itself is an empty layer`, async () => {
      const { server, left, lowerTree } = await pair(backend);
      const layer = await diff(server, left, left, MEDIA_TYPES[0], `strata-e2e-empty-${backend}`, {});
      const tar = uncompressLayer(layer.media_type, await readBlob(server.client.content, layer.digest));
      assert.deepEqual(await members(tar), []);
      const info = await contentInfo(server.client.content, layer.digest);
      const rebuilt = await applyOntoLower(backend, server, 'applied-empty', layer, info.labels[UNCOMPRESSED_LABEL]);
      const differences = diffTrees(lowerTree, rebuilt, ['lower', 'rebuilt']);
      assert.deepEqual(differences, [], formatDifferences(differences));
    });

    it(`${backend}: the layer matches containerd 1.6's walking differ, apart from known differences`, async () => {
      const { theirs, ours } = await crossCheck(backend);
      assert.ok(theirs.length > 20, `containerd's layer has only ${theirs.length} members`);
      const theirNames = theirs.map(memberName);
      const missing = theirs.filter((line) => !ours.includes(line) && !isParentDirectory(line, theirNames));
      const extra = ours.filter((line) => !theirs.includes(line) && !STRATA_ONLY.includes(memberName(line)));
      assert.deepEqual(
        { missing, extra },
        { missing: [], extra: [] },
        `strata's layer differs from containerd's:\n  containerd only:\n    ${missing.join('\n    ')}\n  strata only:\n    ${extra.join('\n    ')}`,
      );
      // The members both write come in the same order.
      assert.deepEqual(
        ours.filter((line) => theirs.includes(line)),
        theirs.filter((line) => ours.includes(line)),
      );
    });

    it(`${backend}: the layer carries the parent directories of each change, as containerd's does`, async () => {
      const { theirs, ours } = await crossCheck(backend);
      const theirNames = theirs.map(memberName);
      const parents = theirs.filter((line) => isParentDirectory(line, theirNames));
      const missing = parents.filter((line) => !ours.includes(line));
      assert.deepEqual(missing, [], `parent directory entries containerd writes and strata does not:\n  ${missing.join('\n  ')}`);
    });

    it(`${backend}: Diff to an unsupported media type is refused`, async () => {
      const { server, left, right } = await pair(backend);
      await assert.rejects(
        diff(server, left, right, 'application/x-strata-e2e-unknown', `strata-e2e-unknown-${backend}`, {}),
        (error) => grpcCode(error) === 12,
      );
    });
  }
});
