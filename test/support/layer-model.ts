// Random layer stacks for fuzzing an applier, and a reference model of what
// applying them must give. fast-check generates each layer as a list of raw
// operations over a small name space (so paths collide across layers and with
// each other); `canonicalLayer` turns that list, given the merged tree below,
// into a canonical OCI layer: paths distinct within the layer, a directory's
// entry before its children, its opaque marker and whiteouts right after its
// entry and before anything new in it, parents always declared or already
// directories below, nothing beneath a symlink, hardlinks only to regular
// files earlier in the same layer. What is not canonical is dropped (never
// repaired into something else), so shrinking a raw list shrinks the layer.
// `applyToModel` then applies a canonical layer to a plain map of paths with
// containerd's archive.Apply semantics.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import fc from 'fast-check';
import { dir, file, hardlink, opaqueMarker, symlink, whiteout, type LayerEntry } from './tar-entries';
import type { Tree, TreeEntry } from './tree';

/** Path components: three names, three levels deep, 39 paths in all. */
export const NAMES = ['a', 'b', 'c'] as const;
export const MAX_DEPTH = 3;

/** Whole seconds (tar headers carry no more). */
export const MTIMES = [new Date('2020-01-02T03:04:05Z'), new Date('2001-09-09T01:46:40Z'), new Date('1970-01-01T00:00:01Z')];
/** 2^31 seconds: past a signed 32-bit time. */
export const MTIME_2038 = new Date('2038-01-19T03:14:08Z');
const FILE_MODES = [0o644, 0o755, 0o600, 0o400, 0o4755, 0o2755, 0o6711, 0o1755, 0o777];
const DIR_MODES = [0o755, 0o700, 0o1777, 0o2775, 0o555, 0o711];
/** 262143 = 0o777777, the most six octal digits hold. */
export const IDS = [0, 1, 1000, 65534, 262_143];
/** Needs seven octal digits (a ustar header's id field holds seven), or a PAX record. */
export const ID_ABOVE_SIX_DIGITS = 1_000_000;
const XATTR_NAMES = ['user.a', 'user.b'];
const XATTR_VALUES = ['1', 'two', '', 'x'.repeat(40)];
/** Buffered writes stop at 4 MiB in strata's applier; a bigger file takes the streaming path. */
const BIG_FILE = 4 * 1024 * 1024 + 1000;

export type Xattrs = Record<string, string>;

export interface FileMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  xattrs: Xattrs;
}

export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  xattrs: Xattrs;
}

/** A file's content: bytes given in full, or a big file described by its size and a seed. */
export type Content = { bytes: number[] } | { big: number; seed: number };

/** A symlink target: another path of the name space (relative to the link, or absolute), or a fixed odd string. */
export type LinkTarget = { to: string; absolute: boolean } | { literal: string };

export type RawOp =
  | { kind: 'file'; path: string; content: Content; meta: FileMeta }
  | { kind: 'dir'; path: string; meta: DirMeta; opaque: boolean }
  | { kind: 'symlink'; path: string; target: LinkTarget; uid: number; gid: number; mtime: number }
  /** A hard link to the `pick`-th (modulo) regular file written earlier in the same layer. */
  | { kind: 'hardlink'; path: string; pick: number }
  | { kind: 'whiteout'; path: string };

export type RawLayer = RawOp[];

/** One member of a canonical layer, before it becomes a tar entry. */
export type CanonEntry =
  | { kind: 'dir'; path: string; meta: DirMeta }
  | { kind: 'opaque'; path: string }
  | { kind: 'whiteout'; path: string }
  | { kind: 'file'; path: string; meta: FileMeta; content: Buffer }
  | { kind: 'symlink'; path: string; target: string; uid: number; gid: number; mtime: number }
  | { kind: 'hardlink'; path: string; target: string; meta: FileMeta };

export interface ModelDir {
  type: 'directory';
  mode: number;
  uid: number;
  gid: number;
  xattrs: Xattrs;
}

/** A non-directory; names that share one (hard links) share the object. */
export interface Inode {
  id: number;
  type: 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  content?: Buffer;
  target?: string;
  xattrs: Xattrs;
}

export type ModelNode = ModelDir | { type: 'file' | 'symlink'; inode: Inode };

/** Paths relative to the root, '.' being the root itself. */
export type ModelTree = Map<string, ModelNode>;

/**
 * What becomes of the xattrs of a directory that a layer declares again over
 * a directory: merged with the new ones (containerd's applier on a plain
 * directory, GNU tar), or only the new ones (an overlay upper dir, where the
 * entry is a new directory that hides the lower one's xattrs). That is the
 * difference diff-compare.test.ts documents in KNOWN_DIFFERENCES.
 */
export type DirXattrs = 'merge' | 'replace';

/** The root of an empty snapshot, as strata makes it (and as the GNU tar oracle's directory is set). */
export function emptyModel(): ModelTree {
  return new Map([['.', { type: 'directory', mode: 0o755, uid: 0, gid: 0, xattrs: {} }]]);
}

// ---------------------------------------------------------------------------
// Arbitraries

/** Mostly shallow paths, so that they collide more often. */
export const pathArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...NAMES)) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...NAMES)) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...NAMES), { minLength: MAX_DEPTH, maxLength: MAX_DEPTH }) },
  )
  .map((parts) => parts.join('/'));

function idArb(wide: boolean): fc.Arbitrary<number> {
  return fc.constantFrom(...IDS, ...(wide ? [ID_ABOVE_SIX_DIGITS] : []));
}

export function mtimeArb(wide: boolean): fc.Arbitrary<number> {
  return fc.constantFrom(...[...MTIMES, ...(wide ? [MTIME_2038] : [])].map((d) => d.getTime() / 1000));
}

export const xattrsArb: fc.Arbitrary<Xattrs> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...XATTR_NAMES), fc.constantFrom(...XATTR_VALUES), { minKeys: 1, maxKeys: 2 }) },
);

const contentArb: fc.Arbitrary<Content> = fc.oneof(
  { weight: 40, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((bytes) => ({ bytes })) },
  { weight: 1, arbitrary: fc.record({ big: fc.integer({ min: BIG_FILE, max: BIG_FILE + 4096 }), seed: fc.nat() }) },
);

function fileMetaArb(wide: boolean): fc.Arbitrary<FileMeta> {
  return fc.record({
    mode: fc.constantFrom(...FILE_MODES),
    uid: idArb(wide),
    gid: idArb(wide),
    mtime: mtimeArb(wide),
    xattrs: xattrsArb,
  });
}

/** Directory xattrs are optional: see DirXattrs for why some callers leave them out. */
function dirMetaArb(withXattrs: boolean, wide: boolean): fc.Arbitrary<DirMeta> {
  return fc.record({
    mode: fc.constantFrom(...DIR_MODES),
    uid: idArb(wide),
    gid: idArb(wide),
    xattrs: withXattrs ? xattrsArb : fc.constant({}),
  });
}

/**
 * Odd targets nothing ever follows. Absolute targets stay inside the name
 * space: /a, /b and /c must not exist on the host (the tests check), so that
 * a target followed by mistake outside a snapshot finds nothing.
 */
const LITERAL_TARGETS = ['.', '..', 'nowhere', 'a/', '//a', 'a/../b', '/a/b/c/d'];

const linkTargetArb: fc.Arbitrary<LinkTarget> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ to: pathArb, absolute: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constantFrom(...LITERAL_TARGETS).map((literal) => ({ literal })) },
);

export interface LayerArbOptions {
  /** Give directories random user.* xattrs too (see DirXattrs). */
  dirXattrs: boolean;
  /**
   * Also times from 2038 on (MTIME_2038) and ids above 0o777777
   * (ID_ABOVE_SIX_DIGITS): layers written with them need PAX records.
   */
  wideValues: boolean;
  maxOps?: number;
}

export function rawOpArb(options: LayerArbOptions): fc.Arbitrary<RawOp> {
  const wide = options.wideValues;
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('file' as const), path: pathArb, content: contentArb, meta: fileMetaArb(wide) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('dir' as const),
        path: pathArb,
        meta: dirMetaArb(options.dirXattrs, wide),
        opaque: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('symlink' as const), path: pathArb, target: linkTargetArb, uid: idArb(wide), gid: idArb(wide), mtime: mtimeArb(wide) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('hardlink' as const), path: pathArb, pick: fc.nat({ max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('whiteout' as const), path: pathArb }) },
  );
}

export function rawLayerArb(options: LayerArbOptions): fc.Arbitrary<RawLayer> {
  return fc.array(rawOpArb(options), { minLength: 1, maxLength: options.maxOps ?? 14 });
}

export function rawStackArb(options: LayerArbOptions & { minLayers?: number; maxLayers?: number }): fc.Arbitrary<RawLayer[]> {
  return fc.array(rawLayerArb(options), { minLength: options.minLayers ?? 1, maxLength: options.maxLayers ?? 4 });
}

// ---------------------------------------------------------------------------
// Canonical layers

/** Deterministic bytes for a big file. */
function seededContent(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = (seed * 2_654_435_761 + 1) >>> 0;
  for (let i = 0; i < size; i += 4) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    bytes.writeUInt32LE(state, Math.min(i, size - 4));
  }
  return bytes;
}

function contentOf(content: Content): Buffer {
  return 'bytes' in content ? Buffer.from(content.bytes) : seededContent(content.big, content.seed);
}

/** The proper ancestors of a path, outermost first, without the root. */
function ancestors(p: string): string[] {
  const parts = p.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

function isBelow(p: string, dirPath: string): boolean {
  return dirPath === '.' ? p !== '.' : p.startsWith(`${dirPath}/`);
}

function targetText(link: string, target: LinkTarget): string {
  if ('literal' in target) return target.literal;
  if (target.absolute) return `/${target.to}`;
  return path.posix.relative(path.posix.dirname(link), target.to) || '.';
}

interface Decl {
  kind: 'dir' | 'file' | 'symlink' | 'hardlink' | 'whiteout';
  /** Undefined for a parent this layer declares because an entry below needs it. */
  op?: RawOp;
  opaque: boolean;
}

const IMPLICIT_DIR: DirMeta = { mode: 0o755, uid: 0, gid: 0, xattrs: {} };

/**
 * The canonical layer the raw operations describe over `lower`, the merged
 * tree of the layers below. Operations that would break the rules in the
 * header are dropped.
 */
export function canonicalLayer(ops: RawLayer, lower: ModelTree): CanonEntry[] {
  const decls = new Map<string, Decl>();
  /** Paths this layer relies on being directories: ancestors of what it declares or whites out. */
  const used = new Set<string>();

  /** Whether `p` of the lower tree is still there for this layer: no ancestor replaced, whited out or made opaque. */
  const lowerVisible = (p: string): boolean => {
    for (const a of ancestors(p)) {
      const d = decls.get(a);
      if (d && (d.kind !== 'dir' || d.opaque)) return false;
    }
    return lower.has(p);
  };
  const dirAfter = (p: string): boolean => {
    if (p === '.') return true;
    const d = decls.get(p);
    if (d) return d.kind === 'dir';
    return lowerVisible(p) && lower.get(p)?.type === 'directory';
  };
  /** Declares the missing parents of `p` (replacing whatever non-directory is there); false when one cannot be. */
  const placeParents = (p: string): boolean => {
    const chain = ancestors(p);
    let firstMissing = chain.length;
    for (const [i, a] of chain.entries()) {
      if (dirAfter(a)) continue;
      if (decls.has(a)) return false;
      firstMissing = i;
      break;
    }
    for (const a of chain.slice(firstMissing)) decls.set(a, { kind: 'dir', opaque: false });
    for (const a of chain) used.add(a);
    return true;
  };

  for (const op of ops) {
    const p = op.path;
    const existing = decls.get(p);
    if (op.kind === 'whiteout') {
      if (existing || used.has(p) || !lowerVisible(p)) continue;
      for (const a of ancestors(p)) used.add(a);
      decls.set(p, { kind: 'whiteout', op, opaque: false });
      continue;
    }
    if (op.kind === 'dir') {
      if (existing && existing.kind !== 'dir') continue;
      if (!existing) {
        if (!placeParents(p)) continue;
        decls.set(p, { kind: 'dir', op, opaque: false });
      } else if (existing.op === undefined) {
        // A parent declared for an entry below: this operation gives it its attributes.
        existing.op = op;
      }
      const decl = decls.get(p) as Decl;
      // An opaque marker hides the lower tree below: nothing this layer put
      // below may rely on a lower directory there. Nor may a whiteout of this
      // layer lie below: an overlay upper dir then holds a whiteout device in
      // a directory overlayfs does not merge, and readdir of the view lists
      // it while lstat finds nothing (containerd 1.6 unpacks such a layer
      // with its overlayfs snapshotter the same way).
      const canBeOpaque =
        [...used].every((q) => !isBelow(q, p) || decls.get(q)?.kind === 'dir') &&
        [...decls].every(([q, d]) => d.kind !== 'whiteout' || !isBelow(q, p));
      if (op.opaque && canBeOpaque) decl.opaque = true;
      continue;
    }
    if (existing || used.has(p)) continue;
    if (!placeParents(p)) continue;
    decls.set(p, { kind: op.kind, op, opaque: false });
  }

  // Children in the order they were first named, whiteouts first.
  const children = new Map<string, string[]>();
  const seen = new Set<string>(['.']);
  for (const p of decls.keys()) {
    for (const q of [...ancestors(p), p]) {
      if (seen.has(q)) continue;
      seen.add(q);
      const parent = path.posix.dirname(q);
      children.set(parent, [...(children.get(parent) ?? []), q]);
    }
  }

  const out: CanonEntry[] = [];
  const filesSoFar: CanonEntry[] = [];
  const emit = (p: string, decl: Decl): void => {
    const op = decl.op as RawOp;
    if (op.kind === 'file') {
      const entry: CanonEntry = { kind: 'file', path: p, meta: op.meta, content: contentOf(op.content) };
      out.push(entry);
      filesSoFar.push(entry);
    } else if (op.kind === 'symlink') {
      out.push({ kind: 'symlink', path: p, target: targetText(p, op.target), uid: op.uid, gid: op.gid, mtime: op.mtime });
    } else if (op.kind === 'hardlink') {
      // Dropped when no regular file came before it in this layer.
      if (filesSoFar.length === 0) return;
      const target = filesSoFar[op.pick % filesSoFar.length] as Extract<CanonEntry, { kind: 'file' }>;
      out.push({ kind: 'hardlink', path: p, target: target.path, meta: target.meta });
    }
  };
  const visit = (d: string): void => {
    const decl = decls.get(d);
    if (decl) {
      const meta = decl.op?.kind === 'dir' ? decl.op.meta : IMPLICIT_DIR;
      out.push({ kind: 'dir', path: d, meta });
      if (decl.opaque) out.push({ kind: 'opaque', path: d });
    }
    const kids = children.get(d) ?? [];
    for (const c of kids) if (decls.get(c)?.kind === 'whiteout') out.push({ kind: 'whiteout', path: c });
    for (const c of kids) {
      const k = decls.get(c);
      if (k?.kind === 'whiteout') continue;
      if (k === undefined || k.kind === 'dir') visit(c);
      else emit(c, k);
    }
  };
  visit('.');
  return out;
}

/**
 * tar-stream writes a header's time as a 32-bit int (`| 0`), so from 2038 on
 * it comes out as 077777777777, and ids in 6 octal digits, so above 0o777777
 * they come out as 262143. PAX records say the real values, which appliers
 * take over the header's (strata, containerd and GNU tar all do).
 */
const MAX_HEADER_ID = 0o777777;

function withPaxRecords(entry: LayerEntry): LayerEntry {
  const { mtime, uid = 0, gid = 0 } = entry.header;
  const pax: Record<string, string> = {};
  if (mtime !== undefined && mtime.getTime() / 1000 >= 2 ** 31) pax.mtime = String(mtime.getTime() / 1000);
  if (uid > MAX_HEADER_ID) pax.uid = String(uid);
  if (gid > MAX_HEADER_ID) pax.gid = String(gid);
  if (Object.keys(pax).length === 0) return entry;
  return { ...entry, header: { ...entry.header, pax: { ...entry.header.pax, ...pax } } };
}

/** The tar members of a canonical layer. */
export function layerEntries(entries: CanonEntry[]): LayerEntry[] {
  return entries.map(layerEntry).map(withPaxRecords);
}

function xattrBuffers(xattrs: Xattrs): Record<string, Buffer> | undefined {
  return Object.keys(xattrs).length === 0 ? undefined : Object.fromEntries(Object.entries(xattrs).map(([k, v]) => [k, Buffer.from(v, 'latin1')]));
}

function layerEntry(e: CanonEntry): LayerEntry {
  switch (e.kind) {
      case 'dir':
        return dir(e.path, { mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid, mtime: MTIMES[0], xattrs: xattrBuffers(e.meta.xattrs) });
      case 'opaque':
        return opaqueMarker(e.path, { mtime: MTIMES[0] });
      case 'whiteout':
        return whiteout(e.path, { mtime: MTIMES[0] });
      case 'file':
        return file(e.path, e.content, { ...e.meta, mtime: new Date(e.meta.mtime * 1000), xattrs: xattrBuffers(e.meta.xattrs) });
      case 'symlink':
        return symlink(e.path, e.target, { uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000) });
      case 'hardlink':
        // The target's owner, mode and time, as tar writers give a link; no xattrs (they are the inode's already).
        return hardlink(e.path, e.target, { mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid, mtime: new Date(e.meta.mtime * 1000) });
  }
}

/** One line per member, for failure messages. */
export function describeLayer(entries: CanonEntry[]): string[] {
  const meta = (m: { mode?: number; uid: number; gid: number }) => `${m.mode === undefined ? '' : `0${m.mode.toString(8)} `}${m.uid}:${m.gid}`;
  const xattrs = (x: Xattrs) => (Object.keys(x).length === 0 ? '' : ` xattrs=${JSON.stringify(x)}`);
  return entries.map((e) => {
    switch (e.kind) {
      case 'dir':
        return `dir ${e.path} ${meta(e.meta)}${xattrs(e.meta.xattrs)}`;
      case 'opaque':
        return `opaque ${e.path}`;
      case 'whiteout':
        return `whiteout ${e.path}`;
      case 'file':
        return `file ${e.path} ${meta(e.meta)} t=${e.meta.mtime} ${e.content.length}B ${JSON.stringify(e.content.subarray(0, 12).toString('latin1'))}${xattrs(e.meta.xattrs)}`;
      case 'symlink':
        return `symlink ${e.path} -> ${JSON.stringify(e.target)} ${meta(e)} t=${e.mtime}`;
      case 'hardlink':
        return `hardlink ${e.path} => ${e.target}`;
    }
  });
}

// ---------------------------------------------------------------------------
// The model

let nextInode = 1;

function removeSubtree(tree: ModelTree, p: string): void {
  tree.delete(p);
  for (const q of [...tree.keys()]) if (isBelow(q, p)) tree.delete(q);
}

/** A copy of `lower` with the canonical layer applied, as containerd's archive.Apply does. */
export function applyToModel(lower: ModelTree, entries: CanonEntry[], dirXattrs: DirXattrs): ModelTree {
  const tree: ModelTree = new Map(lower);
  const needParent = (p: string): void => {
    const parent = tree.get(path.posix.dirname(p));
    if (parent?.type !== 'directory') throw new Error(`model: the parent of ${p} is not a directory (a generator bug)`);
  };
  for (const e of entries) {
    switch (e.kind) {
      case 'dir': {
        needParent(e.path);
        const existing = tree.get(e.path);
        const merged = existing?.type === 'directory' && dirXattrs === 'merge' ? existing.xattrs : {};
        if (existing?.type !== 'directory') removeSubtree(tree, e.path);
        tree.set(e.path, { type: 'directory', mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid, xattrs: { ...merged, ...e.meta.xattrs } });
        break;
      }
      case 'opaque':
        for (const q of [...tree.keys()]) if (isBelow(q, e.path)) tree.delete(q);
        break;
      case 'whiteout':
        needParent(e.path);
        removeSubtree(tree, e.path);
        break;
      case 'file':
        needParent(e.path);
        removeSubtree(tree, e.path);
        tree.set(e.path, { type: 'file', inode: { id: nextInode++, type: 'file', ...e.meta, content: e.content } });
        break;
      case 'symlink':
        needParent(e.path);
        removeSubtree(tree, e.path);
        tree.set(e.path, {
          type: 'symlink',
          inode: { id: nextInode++, type: 'symlink', mode: 0o777, uid: e.uid, gid: e.gid, mtime: e.mtime, target: e.target, xattrs: {} },
        });
        break;
      case 'hardlink': {
        needParent(e.path);
        const target = tree.get(e.target);
        if (target?.type !== 'file') throw new Error(`model: hardlink ${e.path} to ${e.target}, which is not a file (a generator bug)`);
        removeSubtree(tree, e.path);
        tree.set(e.path, target);
        break;
      }
    }
  }
  return tree;
}

/**
 * Raw layers made canonical one after the other, each over the model of the
 * layers below: the layers, and the model after each.
 */
export function canonicalStack(raw: RawLayer[], dirXattrs: DirXattrs, base: ModelTree = emptyModel()): { layers: CanonEntry[][]; models: ModelTree[] } {
  const layers: CanonEntry[][] = [];
  const models: ModelTree[] = [];
  let model = base;
  for (const ops of raw) {
    const layer = canonicalLayer(ops, model);
    model = applyToModel(model, layer, dirXattrs);
    layers.push(layer);
    models.push(model);
  }
  return { layers, models };
}

function hexXattrs(xattrs: Xattrs): Record<string, string> {
  return Object.fromEntries(Object.entries(xattrs).map(([k, v]) => [k, `0x${Buffer.from(v, 'latin1').toString('hex')}`]));
}

/** The model as tree.ts reads a real tree. */
export function modelToTree(model: ModelTree): Tree {
  const tree: Tree = new Map();
  const byInode = new Map<number, string[]>();
  for (const [p, node] of model) {
    if (node.type === 'directory') {
      tree.set(p, { type: 'directory', mode: node.mode, uid: node.uid, gid: node.gid, xattrs: hexXattrs(node.xattrs), hardlinks: [] });
      continue;
    }
    const inode = node.inode;
    byInode.set(inode.id, [...(byInode.get(inode.id) ?? []), p]);
    const entry: TreeEntry = {
      type: inode.type,
      mode: inode.mode,
      uid: inode.uid,
      gid: inode.gid,
      mtimeNs: BigInt(inode.mtime) * 1_000_000_000n,
      xattrs: hexXattrs(inode.xattrs),
      hardlinks: [],
    };
    if (inode.type === 'file') {
      const content = inode.content as Buffer;
      entry.size = content.length;
      entry.sha256 = createHash('sha256').update(content).digest('hex');
    } else {
      entry.size = Buffer.byteLength(inode.target as string);
      entry.linkTarget = inode.target;
    }
    tree.set(p, entry);
  }
  for (const paths of byInode.values()) {
    for (const p of paths) (tree.get(p) as TreeEntry).hardlinks = paths.filter((q) => q !== p).sort();
  }
  return tree;
}
