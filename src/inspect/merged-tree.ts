// The filesystem an image's layers stack up to, built one entry at a time as
// containerd's applier would build it, counting what each layer adds,
// modifies and removes, and which bytes of lower layers it wastes.
// Directories are nodes with children, so a whiteout of a directory drops
// its whole subtree at once.

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

interface Node extends EntryFacts {
  children?: Map<string, Node>;
  /** The layer that wrote it, or whose entries needed it as a parent; -1 for the root. */
  layer: number;
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

const IMPLICIT_DIR: EntryFacts = { type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 };

export class MergedTree {
  private readonly root: Node = { ...IMPLICIT_DIR, children: new Map(), layer: -1 };
  /** Bytes each layer stored that a later layer deleted or overwrote. */
  readonly wastedByLayer: number[] = [];
  /** The same bytes by path, for the top wasted paths. */
  readonly wastedByPath = new Map<string, number>();

  /** Applies one entry of `layer` at `path` (normalised, no leading slash). */
  write(path: string, facts: EntryFacts, layer: number, changes: LayerChanges): void {
    const parts = path.split('/');
    const name = parts.pop() as string;
    const parent = this.directory(parts, layer, changes);
    const existing = parent.children?.get(name);
    if (existing && existing.type === 'dir' && facts.type === 'dir') {
      // A directory over a directory keeps what is under it.
      Object.assign(existing, facts, { layer });
      return;
    }
    if (existing) this.drop(existing, path, layer, changes, facts.type !== 'dir');
    if (facts.type !== 'dir') {
      const below = existing !== undefined && existing.layer < layer;
      if (below) {
        changes.modifiedFiles++;
        changes.modifiedBytes += facts.size;
      } else if (!existing) {
        changes.addedFiles++;
        changes.addedBytes += facts.size;
      }
    }
    parent.children?.set(name, { ...facts, layer, ...(facts.type === 'dir' ? { children: new Map() } : {}) });
  }

  /**
   * A `.wh.` entry: the path and all beneath it, as the layers below left
   * them, are gone. Says what was there: a directory, and the file bytes it held.
   */
  whiteout(path: string, layer: number, changes: LayerChanges): { dir: boolean; bytes: number } | undefined {
    const parts = path.split('/');
    const name = parts.pop() as string;
    const parent = this.find(parts);
    const existing = parent?.children?.get(name);
    if (!parent || !existing) return undefined;
    parent.children?.delete(name);
    return { dir: existing.type === 'dir', bytes: this.drop(existing, path, layer, changes, false) };
  }

  /**
   * A `.wh..wh..opq` entry: what the layers below put in the directory is
   * gone, to any depth. What this layer wrote stays, with the directories
   * that hold it, as containerd's applier keeps the paths it has unpacked.
   */
  opaque(dirPath: string, layer: number, changes: LayerChanges): void {
    const dir = dirPath === '' ? this.root : this.directory(dirPath.split('/'), layer, changes);
    this.prune(dir, dirPath, layer, changes);
  }

  private prune(dir: Node, dirPath: string, layer: number, changes: LayerChanges): void {
    for (const [name, child] of [...(dir.children ?? new Map<string, Node>())]) {
      const childPath = dirPath === '' ? name : `${dirPath}/${name}`;
      if (child.children) this.prune(child, childPath, layer, changes);
      if (child.layer >= layer || (child.children?.size ?? 0) > 0) continue;
      dir.children?.delete(name);
      this.drop(child, childPath, layer, changes, false);
    }
  }

  /** The merged filesystem, depth first, children in name order. */
  *entries(): Generator<TreeEntry> {
    const walk = function* (node: Node, path: string): Generator<TreeEntry> {
      for (const name of [...(node.children?.keys() ?? [])].sort()) {
        const child = node.children?.get(name) as Node;
        const childPath = path === '' ? name : `${path}/${name}`;
        const { children: _children, ...facts } = child;
        yield { path: childPath, ...facts };
        if (child.children) yield* walk(child, childPath);
      }
    };
    yield* walk(this.root, '');
  }

  /**
   * A subtree leaves the tree: whatever the layers below wrote in it counts
   * as removed by `layer` (unless a new entry replaces the path itself, which
   * is then a modification), and its file bytes as wasted by whoever stored them.
   */
  private drop(node: Node, path: string, layer: number, changes: LayerChanges, replacedInPlace: boolean): number {
    let removed = 0;
    this.visit(node, path, (n, nPath) => {
      if (n.layer < 0 || n.layer >= layer) return;
      if (n.type !== 'dir' && !(replacedInPlace && n === node)) {
        changes.removedFiles++;
        changes.removedBytes += n.size;
      }
      if (n.size > 0) {
        this.wastedByLayer[n.layer] = (this.wastedByLayer[n.layer] ?? 0) + n.size;
        this.wastedByPath.set(nPath, (this.wastedByPath.get(nPath) ?? 0) + n.size);
        removed += n.size;
      }
    });
    return removed;
  }

  private visit(node: Node, path: string, fn: (node: Node, path: string) => void): void {
    fn(node, path);
    for (const [name, child] of node.children ?? []) this.visit(child, `${path}/${name}`, fn);
  }

  private find(parts: string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of parts) {
      if (part === '') continue;
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** The directory at parts, made when missing; a non-directory in the way is replaced, as the applier replaces it. */
  private directory(parts: string[], layer: number, changes: LayerChanges): Node {
    let node = this.root;
    let path = '';
    for (const part of parts) {
      if (part === '') continue;
      path = path === '' ? part : `${path}/${part}`;
      let child = node.children?.get(part);
      if (!child || child.type !== 'dir') {
        if (child) this.drop(child, path, layer, changes, false);
        child = { ...IMPLICIT_DIR, children: new Map(), layer };
        node.children?.set(part, child);
      }
      node = child;
    }
    return node;
  }
}
