// The end-to-end test image: layers full of the filesystem objects and
// layer-to-layer changes that snapshotters tend to get wrong, and the
// landmarks that prove a tree really is this image, fully applied.
import {
  blockDevice,
  charDevice,
  dir,
  fifo,
  file,
  hardlink,
  opaqueMarker,
  stamped,
  symlink,
  whiteout,
  type LayerEntry,
} from './tar-entries';
import type { Tree, TreeEntry } from './tree';

export const EDGE_CASE_IMAGE = 'docker.io/strata-e2e/edge-cases:v1';

const LONG_DIR = `long/${'d'.repeat(90)}`;
/** A path over 100 bytes whose last component alone is over 100 bytes: only PAX can carry it. */
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(120)}`;
const LONG_SYMLINK_TARGET = `/${'t'.repeat(60)}/${'u'.repeat(60)}/target`;

/**
 * struct vfs_cap_data, revision 2, effective flag set, permitting CAP_NET_RAW
 * (bit 13): what `setcap cap_net_raw+ep` writes. Every byte is below 0x80,
 * which tar-entries needs.
 */
const CAP_NET_RAW = Buffer.from([
  0x01, 0x00, 0x00, 0x02, // magic_etc: VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  0x00, 0x20, 0x00, 0x00, // permitted, low word
  0x00, 0x00, 0x00, 0x00, // inheritable, low word
  0x00, 0x00, 0x00, 0x00, // permitted, high word
  0x00, 0x00, 0x00, 0x00, // inheritable, high word
]);

/** Spans many 512-byte tar blocks and ends mid-block. */
const MULTI_BLOCK_CONTENT = Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 31) % 251));

/** Raw bytes as a byte string, the form names take in layers and trees (one latin1 character per byte). */
function bytes(...values: number[]): string {
  return Buffer.from(values).toString('latin1');
}

/** A name that is UTF-8 text, as its bytes. */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Names that are not UTF-8, or hold newlines, tabs, escapes: they must come through byte for byte. */
const NOT_UTF8 = `names/${bytes(0xff, 0xfe)}`;
const NOT_UTF8_DIR = `names/${bytes(0x80)}dir`;
const NOT_UTF8_LONG = `names/${bytes(0xf0, 0x28, 0x8c, 0x28).repeat(40)}`;
const NOT_UTF8_LINK_TARGET = `target${bytes(0xfe)}`;
const NOT_UTF8_DOOMED = `names/doomed${bytes(0xfc)}`;

const USER = { uid: 1000, gid: 1000 };
const THREE_NAMES = { mode: 0o640, ...USER };

/** Everything a base image might hold, with explicit owners, modes and xattrs. */
const baseLayer: LayerEntry[] = [
  dir('etc'),
  file('etc/hostname', 'strata-e2e\n'),
  file('etc/empty', ''),
  file('etc/group-readable', 'shared\n', { mode: 0o640, gid: 42 }),
  file('etc/odd-mode', 'odd\n', { mode: 0o604 }),
  file('etc/removed-then-restored', 'first life\n'),
  symlink('etc/absolute-link', '/etc/hostname'),
  symlink('etc/dangling-link', '../does/not/exist'),

  dir('usr'),
  dir('usr/bin'),
  dir('usr/lib'),
  file('usr/bin/setuid-tool', '#!/bin/sh\necho setuid\n', { mode: 0o4755 }),
  file('usr/bin/setgid-tool', '#!/bin/sh\necho setgid\n', { mode: 0o2755, gid: 42 }),
  file('usr/bin/all-special-bits', '#!/bin/sh\n', { mode: 0o7777 }),
  file('usr/bin/cap-tool', '#!/bin/sh\necho raw\n', { mode: 0o755, xattrs: { 'security.capability': CAP_NET_RAW } }),
  symlink('usr/bin/relative-link', 'setuid-tool'),
  file('usr/lib/multi-block.bin', MULTI_BLOCK_CONTENT),
  symlink('lib', 'usr/lib'),

  dir('tmp', { mode: 0o1777 }),
  dir('shared-group', { mode: 0o2775, gid: 42 }),
  dir('home'),
  dir('home/user', { mode: 0o750, ...USER }),
  file('home/user/.profile', 'export STRATA=1\n', { mode: 0o600, ...USER }),
  dir('secret', { mode: 0o700, ...USER }),
  dir('secret/inner', { mode: 0o500, ...USER }),
  file('secret/inner/key', 'hunter2\n', { mode: 0o400, ...USER }),
  dir('var'),
  dir('var/empty-dir'),
  dir('var/doomed-empty-dir'),

  dir('dev'),
  charDevice('dev/null', 1, 3),
  blockDevice('dev/loop0', 7, 0, { gid: 6 }),
  dir('run'),
  fifo('run/control.fifo', { mode: 0o620, ...USER }),

  dir('xattrs'),
  file('xattrs/file', 'has xattrs\n', {
    xattrs: { 'user.comment': Buffer.from('hello'), 'user.binary': Buffer.from([0x00, 0x01, 0x7f, 0x0a]) },
  }),
  dir('xattrs/dir', { xattrs: { 'user.dir-note': Buffer.from('on a directory') } }),
  dir('xattrs/redeclared', { mode: 0o755, xattrs: { 'user.dir-note': Buffer.from('set by the base layer') } }),

  dir('data'),
  file('data/original', 'original\n'),
  hardlink('data/original-link', 'data/original'),
  file('data/three', 'three names\n', THREE_NAMES),
  hardlink('data/three-b', 'data/three', THREE_NAMES),
  hardlink('data/three-c', 'data/three', THREE_NAMES),
  file('data/modified-later', 'version 1\n'),
  hardlink('data/link-to-modified', 'data/modified-later'),

  dir('long'),
  dir(LONG_DIR),
  file(LONG_FILE, 'deep and long\n'),
  symlink('long/symlink-with-long-target', LONG_SYMLINK_TARGET),
  hardlink('long/hardlink-to-long-name', LONG_FILE),

  // No directory entries above this file: the applier has to create them.
  file('implicit/parent/child', 'parents made up by the applier\n'),

  dir('opaque'),
  file('opaque/a', 'a\n'),
  file('opaque/b', 'b\n'),
  dir('opaque/sub'),
  file('opaque/sub/c', 'c\n'),

  dir('doomed-dir'),
  file('doomed-dir/inside', 'x\n'),
  dir('doomed-dir/nested'),
  file('doomed-dir/nested/deeper', 'y\n'),

  dir('names'),
  file(NOT_UTF8, 'not UTF-8\n'),
  file('names/new\nline', 'a newline in the name\n'),
  file('names/tab\tand space ', 'a tab and a trailing space\n'),
  file('names/back\\x00slash\\n', 'backslash escapes, literally\n'),
  file(`names/${utf8('é名')}`, 'UTF-8 beyond ASCII\n'),
  dir(NOT_UTF8_DIR),
  file(`${NOT_UTF8_DIR}/${bytes(0xc3, 0x28)}`, 'in a directory whose name is not UTF-8\n'),
  file(NOT_UTF8_LONG, 'a long name that is not UTF-8\n'),
  symlink(`names/link${bytes(0xff)}`, NOT_UTF8_LINK_TARGET),
  hardlink(`names/hard${bytes(0xfd)}`, NOT_UTF8),
  file(NOT_UTF8_DOOMED, 'whited out later\n'),

  dir('swap'),
  file('swap/file-becomes-dir', 'a file for now\n'),
  dir('swap/dir-becomes-file'),
  file('swap/dir-becomes-file/child', 'gone with its directory\n'),
  symlink('swap/link-becomes-file', '../etc/hostname'),
  file('swap/file-becomes-link', 'a file for now\n'),
];

/** Modifications: new content under old hardlinks, type swaps, metadata-only changes. */
const modifyingLayer: LayerEntry[] = [
  file('data/modified-later', 'version 2\n'),
  // Parents come from the lower layer, including a restrictive one and one with xattrs.
  file('secret/inner/added', 'added later\n', { mode: 0o600, ...USER }),
  file('xattrs/dir/added', 'added later\n'),
  dir('swap/file-becomes-dir', { mode: 0o750 }),
  file('swap/file-becomes-dir/child', 'now inside a directory\n'),
  file('swap/dir-becomes-file', 'now a file\n'),
  whiteout('etc/removed-then-restored'),
  file('etc/hostname', 'strata-e2e\n', { mode: 0o600, ...USER }),
];

/** Deletions: an opaque directory, whiteouts of a directory and of one name of a hardlinked file. */
const deletingLayer: LayerEntry[] = [
  dir('opaque'),
  opaqueMarker('opaque'),
  file('opaque/new', 'the only survivor\n'),
  whiteout('doomed-dir'),
  whiteout('var/doomed-empty-dir'),
  whiteout('data/three-b'),
  whiteout(NOT_UTF8_DOOMED),
  dir('xattrs/redeclared', { mode: 0o750, gid: 42 }),
  file('swap/link-becomes-file', 'was a symlink\n'),
  symlink('swap/file-becomes-link', '/etc/hostname'),
];

/** Re-creation of what earlier layers deleted. */
const restoringLayer: LayerEntry[] = [
  dir('doomed-dir', { mode: 0o711 }),
  file('doomed-dir/reborn', 'back again\n'),
  file('etc/removed-then-restored', 'second life\n'),
];

export const edgeCaseLayers: LayerEntry[][] = [
  stamped(new Date('2021-01-01T01:01:01Z'), baseLayer),
  stamped(new Date('2021-02-02T02:02:02Z'), modifyingLayer),
  stamped(new Date('2021-03-03T03:03:03Z'), deletingLayer),
  stamped(new Date('2021-04-04T04:04:04Z'), restoringLayer),
  // An empty layer (no members at all), as image builders emit for metadata-only steps.
  [],
];

/** Paths that whiteouts, opaque markers and type swaps must have removed. */
const REMOVED = [
  'doomed-dir/inside',
  'doomed-dir/nested',
  'var/doomed-empty-dir',
  'data/three-b',
  NOT_UTF8_DOOMED,
  'opaque/a',
  'opaque/b',
  'opaque/sub',
  'swap/dir-becomes-file/child',
];

/**
 * Why `tree` is not the fully applied edge-case image; empty when it is.
 * Checks only landmarks, so that a comparison of two trees cannot pass on two
 * empty or half-applied ones.
 */
export function landmarkProblems(tree: Tree): string[] {
  const problems: string[] = [];
  const check = (relative: string, expectation: string, holds: (entry: TreeEntry) => boolean): void => {
    const entry = tree.get(relative);
    if (entry === undefined) problems.push(`${relative}: missing (expected ${expectation})`);
    else if (!holds(entry)) problems.push(`${relative}: expected ${expectation}`);
  };
  const hex = (value: Buffer): string => `0x${value.toString('hex')}`;
  const device = (entry: TreeEntry): string => `${entry.device?.major}:${entry.device?.minor}`;
  const under = (dir: string): string => [...tree.keys()].filter((p) => p.startsWith(`${dir}/`)).join(' ');

  check('dev/null', 'char device 1:3', (e) => e.type === 'char-device' && device(e) === '1:3');
  check('dev/loop0', 'block device 7:0', (e) => e.type === 'block-device' && device(e) === '7:0');
  check('run/control.fifo', 'fifo owned by 1000', (e) => e.type === 'fifo' && e.uid === 1000);
  check('usr/bin/setuid-tool', 'mode 04755', (e) => e.mode === 0o4755);
  check('usr/bin/all-special-bits', 'mode 07777', (e) => e.mode === 0o7777);
  check('tmp', 'mode 01777', (e) => e.mode === 0o1777);
  check('xattrs/file', 'user.comment=hello', (e) => e.xattrs['user.comment'] === hex(Buffer.from('hello')));
  check('usr/bin/cap-tool', 'CAP_NET_RAW', (e) => e.xattrs['security.capability'] === hex(CAP_NET_RAW));
  check('xattrs/dir', 'user.dir-note kept after a file was added', (e) => 'user.dir-note' in e.xattrs);
  check('data/original', 'hardlinked to data/original-link', (e) => e.hardlinks.join() === 'data/original-link');
  check('data/three', 'owned by 1000, linked to data/three-c only', (e) => e.uid === 1000 && e.hardlinks.join() === 'data/three-c');
  check('data/modified-later', 'version 2, unlinked', (e) => e.size === 'version 2\n'.length && e.hardlinks.length === 0);
  check('data/link-to-modified', 'version 1, unlinked', (e) => e.size === 'version 1\n'.length && e.hardlinks.length === 0);
  check(LONG_FILE, 'a file', (e) => e.type === 'file');
  check('long/symlink-with-long-target', 'its long target', (e) => e.linkTarget === LONG_SYMLINK_TARGET);
  check('opaque', 'only "new" inside', () => under('opaque') === 'opaque/new');
  check('doomed-dir', 'only "reborn" inside', () => under('doomed-dir') === 'doomed-dir/reborn');
  check('swap/file-becomes-dir', 'a directory', (e) => e.type === 'directory');
  check('swap/dir-becomes-file', 'a file', (e) => e.type === 'file');
  check('swap/link-becomes-file', 'a file', (e) => e.type === 'file');
  check('swap/file-becomes-link', 'a symlink', (e) => e.type === 'symlink');
  check('etc/removed-then-restored', 'its second life', (e) => e.size === 'second life\n'.length);
  check(NOT_UTF8, 'a file, hardlinked to its other non-UTF-8 name', (e) => e.size === 'not UTF-8\n'.length && e.hardlinks.join() === `names/hard${bytes(0xfd)}`);
  check(`${NOT_UTF8_DIR}/${bytes(0xc3, 0x28)}`, 'a file', (e) => e.type === 'file');
  check(NOT_UTF8_LONG, 'a file', (e) => e.type === 'file');
  check(`names/link${bytes(0xff)}`, 'its non-UTF-8 target', (e) => e.linkTarget === NOT_UTF8_LINK_TARGET);
  check('names/new\nline', 'a file', (e) => e.type === 'file');
  check('etc/hostname', 'owner 1000 and mode 0600', (e) => e.uid === 1000 && e.mode === 0o600);
  for (const removed of REMOVED) {
    if (tree.has(removed)) problems.push(`${removed}: should have been removed`);
  }
  return problems;
}
