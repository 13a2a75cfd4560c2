// The filesystem an image's layers stack up to, built one entry at a time as
// containerd's applier would build it, counting what each layer adds,
// modifies and removes, which bytes of lower layers it wastes, and dive's
// efficiency score.
//
// An image can hold millions of paths, so a node is an index into typed
// arrays, not an object: objects and a Map per directory cost 500 bytes a
// path, and `strata inspect` must stay under 150 MB. Every path ever written
// keeps its node. A deleted one stays as a tombstone, because the score
// still counts what it held and a later layer may write it again.

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'device' | 'fifo';

/** What a layer's entry puts at a path. */
export interface EntryFacts {
  type: EntryType;
  /** Bytes of a regular file's data; 0 for anything else. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
}

export interface LayerChanges {
  addedFiles: number;
  addedBytes: number;
  modifiedFiles: number;
  modifiedBytes: number;
  removedFiles: number;
  removedBytes: number;
}

/** A path of the merged tree, as `--tree` lists it. */
export interface TreeEntry extends EntryFacts {
  path: string;
  /** The layer that wrote it, or whose entries needed it as a parent. */
  layer: number;
}

export const noChanges = (): LayerChanges => ({
  addedFiles: 0,
  addedBytes: 0,
  modifiedFiles: 0,
  modifiedBytes: 0,
  removedFiles: 0,
  removedBytes: 0,
});

const TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'device', 'fifo'];
const DIR = TYPES.indexOf('dir');
const IMPLICIT_DIR: EntryFacts = { type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 };
const ROOT = 0;
const NONE = -1;

const PRESENT = 1;
/** The score has seen a size for this path. */
const SEEN = 2;

/**
 * A node's key, as a flat string. A template literal would make a rope that
 * keeps the split path's slices, and through them every entry's whole path,
 * alive: twice the memory.
 */
function keyOf(parent: number, name: string): string {
  return [parent, name].join('/');
}

/** The nodes' fields, one typed array each, grown by doubling. */
class NodeTable {
  capacity = 1024;
  type = new Uint8Array(this.capacity);
  flags = new Uint8Array(this.capacity);
  layer = new Int32Array(this.capacity);
  mode = new Uint32Array(this.capacity);
  uid = new Uint32Array(this.capacity);
  gid = new Uint32Array(this.capacity);
  parent = new Int32Array(this.capacity);
  firstChild = new Int32Array(this.capacity);
  nextSibling = new Int32Array(this.capacity);
  size = new Float64Array(this.capacity);
  /** The smallest size the score has seen for the path. */
  smallest = new Float64Array(this.capacity);
  /** Bytes stored at the path that later layers deleted or overwrote. */
  wasted = new Float64Array(this.capacity);

  /** Doubles every typed-array field, whichever fields there are. */
  grow(): void {
    this.capacity *= 2;
    const fields = this as unknown as Record<string, unknown>;
    for (const [field, old] of Object.entries(fields)) {
      if (!ArrayBuffer.isView(old)) continue;
      const array = old as Float64Array;
      const grown = new (array.constructor as new (n: number) => Float64Array)(this.capacity);
      grown.set(array);
      fields[field] = grown;
    }
  }
}

export class MergedTree {
  private readonly nodes = new NodeTable();
  private count = 0;
  /** `${parent}/${name}` to node: one Map for the whole tree, not one per directory. */
  private readonly byKey = new Map<string, number>();
  /** Each node's key, which holds its name after the first '/'. */
  private readonly keys: string[] = [];
  private readonly linknames = new Map<number, string>();
  /** Bytes each layer stored that a later layer deleted or overwrote. */
  readonly wastedByLayer: number[] = [];
  /** The sum of every size the score has seen. */
  private seenTotal = 0;

  constructor() {
    this.allocate(NONE, '');
    this.set(ROOT, IMPLICIT_DIR, -1);
  }

  /** Applies one entry of `layer` at `path` (normalised, no leading slash). */
  write(path: string, facts: EntryFacts, layer: number, changes: LayerChanges): void {
    const parts = path.split('/');
    const name = parts.pop() as string;
    const parent = this.directory(parts, layer, changes);
    const node = this.child(parent, name);
    const existing = node !== undefined && this.isPresent(node) ? node : undefined;
    const isDir = facts.type === 'dir';
    if (existing !== undefined && this.isDir(existing) && isDir) {
      // A directory over a directory keeps what is under it.
      this.set(existing, facts, layer);
      return;
    }
    if (existing !== undefined) {
      if (!isDir && this.nodes.layer[existing] < layer) {
        changes.modifiedFiles++;
        changes.modifiedBytes += facts.size;
      }
      this.drop(existing, layer, changes, !isDir);
    } else if (!isDir) {
      changes.addedFiles++;
      changes.addedBytes += facts.size;
    }
    const written = node ?? this.allocate(parent, name);
    this.set(written, facts, layer);
    if (!isDir) this.see(written, facts.size);
  }

  /** A `.wh.` entry: the path and all beneath it, as the layers below left them, are gone. */
  whiteout(path: string, layer: number, changes: LayerChanges): void {
    const parts = path.split('/');
    const name = parts.pop() as string;
    const parent = this.find(parts);
    const existing = parent === undefined ? undefined : this.child(parent, name);
    if (existing === undefined || !this.isPresent(existing)) return;
    const dir = this.isDir(existing);
    const bytes = this.drop(existing, layer, changes, false);
    // As dive: a deleted file counts as size 0, a deleted directory as the bytes it held.
    this.see(existing, dir ? bytes : 0);
  }

  /**
   * A `.wh..wh..opq` entry: what the layers below put in the directory is
   * gone, to any depth. What this layer wrote stays, with the directories
   * that hold it, as containerd's applier keeps the paths it has unpacked.
   */
  opaque(dirPath: string, layer: number, changes: LayerChanges): void {
    const dir = dirPath === '' ? ROOT : this.directory(dirPath.split('/'), layer, changes);
    this.prune(dir, layer, changes);
  }

  /** dive's score: over every path seen, the smallest size seen over the sum of all sizes seen. */
  efficiency(): number {
    let smallest = 0;
    for (let node = 0; node < this.count; node++) {
      if (this.nodes.flags[node] & SEEN) smallest += this.nodes.smallest[node];
    }
    return this.seenTotal === 0 ? 1 : smallest / this.seenTotal;
  }

  /** The `limit` paths with the most wasted bytes, most first, then by path. */
  topWasted(limit: number): { path: string; bytes: number }[] {
    const wasted: { path: string; bytes: number }[] = [];
    for (let node = 0; node < this.count; node++) {
      if (this.nodes.wasted[node] > 0) wasted.push({ path: this.pathOf(node), bytes: this.nodes.wasted[node] });
    }
    return wasted.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, limit);
  }

  /** The merged filesystem, depth first, children in name order. */
  *entries(): Generator<TreeEntry> {
    const walk = function* (this: MergedTree, node: number, path: string): Generator<TreeEntry> {
      const children = [...this.presentChildren(node)].map((child) => ({ child, name: this.nameOf(child) }));
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const { child, name } of children) {
        const childPath = path === '' ? name : `${path}/${name}`;
        yield { path: childPath, ...this.factsOf(child), layer: this.nodes.layer[child] };
        if (this.isDir(child)) yield* walk.call(this, child, childPath);
      }
    };
    yield* walk.call(this, ROOT, '');
  }

  private prune(dir: number, layer: number, changes: LayerChanges): void {
    for (const child of [...this.presentChildren(dir)]) {
      if (this.isDir(child)) this.prune(child, layer, changes);
      if (this.nodes.layer[child] >= layer || !this.presentChildren(child).next().done) continue;
      this.drop(child, layer, changes, false);
    }
  }

  /**
   * A subtree leaves the tree: whatever the layers below wrote in it counts
   * as removed by `layer` (unless a new entry replaces the path itself, which
   * is then a modification), and its file bytes as wasted by whoever stored
   * them. Returns those bytes.
   */
  private drop(top: number, layer: number, changes: LayerChanges, replacedInPlace: boolean): number {
    const { nodes } = this;
    let removed = 0;
    const stack = [top];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      for (const child of this.presentChildren(node)) stack.push(child);
      nodes.flags[node] &= ~PRESENT;
      const stored = nodes.layer[node];
      if (stored < 0 || stored >= layer) continue;
      if (nodes.type[node] !== DIR && !(replacedInPlace && node === top)) {
        changes.removedFiles++;
        changes.removedBytes += nodes.size[node];
      }
      const size = nodes.size[node];
      if (size > 0) {
        this.wastedByLayer[stored] = (this.wastedByLayer[stored] ?? 0) + size;
        nodes.wasted[node] += size;
        removed += size;
      }
    }
    return removed;
  }

  private see(node: number, size: number): void {
    const { nodes } = this;
    nodes.smallest[node] = nodes.flags[node] & SEEN ? Math.min(nodes.smallest[node], size) : size;
    nodes.flags[node] |= SEEN;
    this.seenTotal += size;
  }

  /** The present directory at parts, or undefined. */
  private find(parts: string[]): number | undefined {
    let node = ROOT;
    for (const part of parts) {
      if (part === '') continue;
      const child = this.child(node, part);
      if (child === undefined || !this.isPresent(child)) return undefined;
      node = child;
    }
    return node;
  }

  /** The directory at parts, made when missing; a non-directory in the way is replaced, as the applier replaces it. */
  private directory(parts: string[], layer: number, changes: LayerChanges): number {
    let node = ROOT;
    for (const part of parts) {
      if (part === '') continue;
      let child = this.child(node, part);
      const present = child !== undefined && this.isPresent(child);
      if (!present || !this.isDir(child as number)) {
        if (present) this.drop(child as number, layer, changes, false);
        child ??= this.allocate(node, part);
        this.set(child, IMPLICIT_DIR, layer);
      }
      node = child as number;
    }
    return node;
  }

  private *presentChildren(node: number): Generator<number> {
    const { nodes } = this;
    for (let child = nodes.firstChild[node]; child !== NONE; child = nodes.nextSibling[child]) {
      if (nodes.flags[child] & PRESENT) yield child;
    }
  }

  private child(parent: number, name: string): number | undefined {
    return this.byKey.get(keyOf(parent, name));
  }

  private allocate(parent: number, name: string): number {
    const { nodes } = this;
    if (this.count === nodes.capacity) nodes.grow();
    const node = this.count++;
    const key = keyOf(parent, name);
    this.byKey.set(key, node);
    this.keys.push(key);
    nodes.parent[node] = parent;
    nodes.firstChild[node] = NONE;
    nodes.nextSibling[node] = parent === NONE ? NONE : nodes.firstChild[parent];
    if (parent !== NONE) nodes.firstChild[parent] = node;
    return node;
  }

  private set(node: number, facts: EntryFacts, layer: number): void {
    const { nodes } = this;
    nodes.type[node] = TYPES.indexOf(facts.type);
    nodes.flags[node] |= PRESENT;
    nodes.layer[node] = layer;
    nodes.size[node] = facts.size;
    nodes.mode[node] = facts.mode;
    nodes.uid[node] = facts.uid;
    nodes.gid[node] = facts.gid;
    if (facts.linkname !== undefined) this.linknames.set(node, facts.linkname);
    else this.linknames.delete(node);
  }

  private factsOf(node: number): EntryFacts {
    const { nodes } = this;
    const linkname = this.linknames.get(node);
    return {
      type: TYPES[nodes.type[node]],
      size: nodes.size[node],
      mode: nodes.mode[node],
      uid: nodes.uid[node],
      gid: nodes.gid[node],
      ...(linkname !== undefined ? { linkname } : {}),
    };
  }

  private isPresent(node: number): boolean {
    return (this.nodes.flags[node] & PRESENT) !== 0;
  }

  private isDir(node: number): boolean {
    return this.nodes.type[node] === DIR;
  }

  private nameOf(node: number): string {
    const key = this.keys[node];
    return key.slice(key.indexOf('/') + 1);
  }

  private pathOf(node: number): string {
    const names: string[] = [];
    for (let at = node; at !== ROOT; at = this.nodes.parent[at]) names.push(this.nameOf(at));
    return names.reverse().join('/');
  }
}
