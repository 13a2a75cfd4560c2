// containerd's unpack, replayed over gRPC against a strata server: layers
// as blobs, the labels and keys containerd's unpacker and metadata store
// pass on, a sequential unpack, and the check that two committed chains are
// the same tree at every level. Used by the parallel-unpack and early-unpack
// tests.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { unmountAllUnder } from '../../native-bench/harness/mounts';
import { unaryCall } from '../../src/client/connect';
import { chainIds } from '../../src/images/resolve';
import { canonicalStack, describeLayer, layerEntries, rawStackArb } from './layer-model';
import { gzip, rawTar, zstd } from './malicious-layers';
import type { LayerCompression } from './oci-archive';
import { applyLayer, mountAll, sha256, withLog, writeBlob, type StrataServer, type WireMount } from './strata-grpc';
import { charDevice, dir, file, hardlink, opaqueMarker, symlink, whiteout, type LayerEntry } from './tar-entries';
import { diffTrees, formatDifferences, readTree, type Tree } from './tree';

export const MEDIA_TYPES: Record<LayerCompression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};


export interface Layer {
  blob: Buffer;
  mediaType: string;
  diffId: string;
}

/** The labels containerd's unpacker gives each layer's snapshot (2.3), as its metadata store passes them on. */
export function unpackLabels(chain: string[], diffIds: string[], i: number): Record<string, string> {
  return {
    'containerd.io/snapshot.ref': chain[i],
    'containerd.io/snapshot/diff-id': diffIds[i],
    ...(i > 0 ? { 'containerd.io/snapshot/parent-chain-id': chain[i - 1] } : {}),
  };
}

/** containerd's backend keys: NAMESPACE/SEQUENCE/NAME, one sequence per namespace's snapshotter bucket. */
export class Namespace {
  private sequence = 0;

  constructor(readonly name: string) {}

  key(name: string): string {
    this.sequence += 1;
    return `${this.name}/${this.sequence}/${name}`;
  }

  /** UnpackKeyFormat: "extract-%s %s", a unique part and the chain ID. */
  extractKey(chainId: string): string {
    return this.key(`extract-${this.sequence}-${Math.random().toString(36).slice(2, 6)} ${chainId}`);
  }
}

export async function upload(server: StrataServer, layers: Layer[]): Promise<void> {
  for (const layer of layers) await withLog(server, 'Write', () => writeBlob(server.client.content, layer.blob));
}

export async function apply(server: StrataServer, layer: Layer, mounts: WireMount[], what: string): Promise<void> {
  const applied = await withLog(server, `Apply of ${what}`, () =>
    applyLayer(server.client.diff, { media_type: layer.mediaType, digest: sha256(layer.blob), size: layer.blob.length }, mounts),
  );
  assert.equal(applied.digest, layer.diffId, `${what}: the applied digest is not the diff ID`);
}

/**
 * The sequential unpack: Prepare on the layer below, Apply, Commit. Returns
 * the committed names, bottom first. Without `snapshotRef`, the Prepares
 * carry no snapshot.ref label, as those of `ctr images pull` (Image.Unpack)
 * do not, so that no layer a server holds is offered.
 */
export async function unpackSequentially(server: StrataServer, layers: Layer[], ns: Namespace, snapshotRef = true): Promise<string[]> {
  const diffIds = layers.map((l) => l.diffId);
  const chain = chainIds(diffIds);
  const names: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const key = ns.extractKey(chain[i]);
    const { 'containerd.io/snapshot.ref': ref, ...withoutRef } = unpackLabels(chain, diffIds, i);
    const labels = snapshotRef ? { 'containerd.io/snapshot.ref': ref, ...withoutRef } : withoutRef;
    const mounts = await withLog(server, `Prepare ${key}`, () => server.snapshots.prepare(key, names[i - 1] ?? '', labels));
    await apply(server, layer, mounts, `layer ${i} (sequential)`);
    const name = ns.key(chain[i]);
    await withLog(server, `Commit ${key}`, () => server.snapshots.commit(name, key, labels));
    names.push(name);
  }
  return names;
}

/**
 * Two chains of committed snapshots are the same tree at every level: a View
 * of each level, and an active snapshot on each (a container's rootfs, through
 * Mounts), mounted and read.
 */
export async function assertSameChains(server: StrataServer, workDir: string, sequential: string[], parallel: string[], context: string): Promise<void> {
  assert.equal(parallel.length, sequential.length);
  const prefix = `compare-${Math.random().toString(36).slice(2, 8)}`;
  const mountPoint = path.join(workDir, 'mnt');
  const treeOf = async (mounts: WireMount[]): Promise<Tree> => {
    await mountAll(mounts, mountPoint);
    try {
      return await readTree(mountPoint);
    } finally {
      await unmountAllUnder(mountPoint);
    }
  };
  for (const [level, name] of sequential.entries()) {
    for (const kind of ['view', 'active'] as const) {
      const trees: Tree[] = [];
      for (const [which, parent] of [['sequential', name], ['parallel', parallel[level]]] as const) {
        const key = `${prefix}-${which}-${kind}-${level}`;
        if (kind === 'view') await server.snapshots.view(key, parent);
        else await server.snapshots.prepare(key, parent);
        trees.push(await treeOf(await server.snapshots.mounts(key)));
        await server.snapshots.remove(key);
      }
      const differences = diffTrees(trees[0], trees[1], ['sequential', 'parallel']);
      assert.deepEqual(differences, [], `${context}, level ${level}, ${kind}: ${formatDifferences(differences)}`);
    }
    assert.equal((await server.snapshots.stat(parallel[level])).parent, level === 0 ? '' : parallel[level - 1]);
  }
}

export async function removeChains(server: StrataServer, ...chains: string[][]): Promise<void> {
  for (const chain of chains) for (const name of [...chain].reverse()) await server.snapshots.remove(name);
}

export async function removeBlobs(server: StrataServer, layers: Layer[]): Promise<void> {
  for (const digest of new Set(layers.map((l) => sha256(l.blob)))) await unaryCall(server.client.content, 'Delete', { digest });
}

/**
 * Layers aimed at what a parentless Apply cannot know: whiteouts and opaque
 * markers over lower content, directories made for an entry where the layer
 * below has them (mode, owner, xattrs, a setgid bit to inherit), one declared
 * only after what is in it, names whited out and made again, replacements
 * both ways, and hard links.
 */
export const REBASE_CASES: LayerEntry[][] = [
  [
    dir('srv', { mode: 0o2775, uid: 1000, gid: 2000, xattrs: { 'user.base': Buffer.from('1') } }),
    dir('srv/data', { mode: 0o750, uid: 1000, gid: 2000, xattrs: { 'user.dir': Buffer.from('lower') } }),
    file('srv/data/old', 'old\n'),
    file('srv/data/kept', 'kept\n'),
    dir('srv/late', { mode: 0o755, uid: 3, gid: 4, xattrs: { 'user.lower': Buffer.from('l') } }),
    dir('opt', { mode: 0o700, uid: 7, gid: 8 }),
    dir('opt/keep'),
    file('opt/keep/a', 'a\n'),
    dir('gone'),
    file('gone/f', 'f\n'),
    file('replaced-by-dir', 'file\n'),
    dir('replaced-by-file'),
    file('replaced-by-file/x', 'x\n'),
    dir('recreated'),
    file('recreated/inside', 'inside\n'),
    symlink('link', 'srv/data'),
  ],
  [
    file('srv/data/new', 'new\n'),
    file('srv/fresh/deep/file', 'deep\n'),
    whiteout('srv/data/old'),
    opaqueMarker('opt'),
    file('opt/new', 'new\n'),
    whiteout('gone'),
    file('replaced-by-file', 'now a file\n'),
    dir('replaced-by-dir', { mode: 0o711 }),
    file('replaced-by-dir/inside', 'inside\n'),
    dir('links'),
    file('links/one', 'linked\n', { mode: 0o640, uid: 5, gid: 6 }),
    hardlink('links/two', 'links/one', { mode: 0o640, uid: 5, gid: 6 }),
    file('srv/late/inner', 'inner\n'),
    dir('srv/late', { mode: 0o711, uid: 9, gid: 9, xattrs: { 'user.own': Buffer.from('x') } }),
    whiteout('recreated'),
    file('recreated', 'a file again\n'),
    whiteout('never-there'),
    charDevice('dev-null', 1, 3),
  ],
  [
    file('srv/fresh/deep/more', 'more\n'),
    whiteout('links/two'),
    dir('srv/data', { mode: 0o755 }),
    opaqueMarker('srv/data'),
    file('srv/data/only', 'only\n'),
    whiteout('link'),
    dir('link'),
    file('link/real', 'a directory now\n'),
  ],
];

export async function tarLayers(entries: LayerEntry[][], compression: LayerCompression): Promise<Layer[]> {
  const layers: Layer[] = [];
  for (const layer of entries) {
    const tar = await rawTar(layer);
    const blob = compression === 'gzip' ? gzip(tar) : compression === 'zstd' ? zstd(tar) : tar;
    layers.push({ blob, mediaType: MEDIA_TYPES[compression], diffId: sha256(tar) });
  }
  return layers;
}

/**
 * Runs `check` on random layer stacks of the fuzz-layers model, in a random
 * compression, `runs` times, with a description of the stack as context.
 */
export async function forRandomStacks(runs: number, check: (layers: Layer[], context: string) => Promise<unknown>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ raw: rawStackArb({ dirXattrs: true, wideValues: true, minLayers: 2, maxLayers: 4 }), compression: fc.constantFrom<LayerCompression>('none', 'gzip', 'zstd') }),
      async ({ raw, compression }) => {
        const { layers } = canonicalStack(raw, 'replace');
        const context = `random stack:\n${layers.map((l, i) => `  layer ${i}:\n${describeLayer(l).map((line) => `    ${line}`).join('\n')}`).join('\n')}`;
        await check(await tarLayers(layers.map(layerEntries), compression), context);
      },
    ),
    { numRuns: runs, includeErrorInReport: true },
  );
}
