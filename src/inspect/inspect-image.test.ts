import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Compression } from '../diff/compression';
import { isKind } from '../errdefs';
import { openImageSource } from '../images/open-source';
import { parsePlatform } from '../images/platform';
import { buildSpecImage, writeDockerSave, type BuiltImage, type Spec } from '../testing/spec-image';
import { inspectImage, NoSuchLayer, type InspectReport } from './inspect-image';

const PLATFORM = parsePlatform('linux/amd64');
let workDir: string;

function buildImage(layers: Spec[][], compressions: Compression[], config: object = {}): Promise<BuiltImage> {
  return buildSpecImage(workDir, layers, compressions, config);
}

before(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-inspect-'));
});
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

async function inspectRef(reference: string): Promise<InspectReport> {
  const source = await openImageSource(reference);
  try {
    return await inspectImage(source, { platform: PLATFORM, tree: true });
  } finally {
    await source.close();
  }
}

/**
 * The expected report, by another route: a flat map of paths, subtrees found
 * by prefix, applied in the order the OCI image spec gives.
 */
function model(layers: Spec[][]) {
  const state = new Map<string, { dir: boolean; size: number; layer: number }>();
  const wasted: number[] = layers.map(() => 0);
  const wastedByPath = new Map<string, number>();
  const sizes = new Map<string, { total: number; smallest: number }>();
  const see = (p: string, size: number) => {
    const s = sizes.get(p) ?? { total: 0, smallest: Infinity };
    sizes.set(p, { total: s.total + size, smallest: Math.min(s.smallest, size) });
  };
  const perLayer = layers.map((specs, layer) => {
    const c = { entries: specs.length, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, opaqueDirs: 0, addedFiles: 0, addedBytes: 0, modifiedFiles: 0, modifiedBytes: 0, removedFiles: 0, removedBytes: 0 };
    const under = (p: string) => [...state.keys()].filter((k) => k === p || k.startsWith(`${p}/`) || p === '');
    const remove = (keys: string[], keep?: string) => {
      let bytes = 0;
      for (const k of keys) {
        const v = state.get(k) as { dir: boolean; size: number; layer: number };
        state.delete(k);
        if (v.layer < 0 || v.layer >= layer) continue;
        if (!v.dir && k !== keep) {
          c.removedFiles++;
          c.removedBytes += v.size;
        }
        if (v.size > 0) {
          wasted[v.layer] += v.size;
          wastedByPath.set(k, (wastedByPath.get(k) ?? 0) + v.size);
          bytes += v.size;
        }
      }
      return bytes;
    };
    for (const spec of specs) {
      if (spec.op === 'opaque') {
        c.opaqueDirs++;
        ensureParents(`${spec.dir}/x`);
        const inside = under(spec.dir).filter((k) => k !== spec.dir);
        // This layer's paths stay, and so do the directories that hold them.
        const ours = inside.filter((k) => (state.get(k)?.layer ?? -1) >= layer);
        const holders = new Set(ours.flatMap((k) => k.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
        remove(inside.filter((k) => !holders.has(k)));
        continue;
      }
      if (spec.op === 'whiteout') {
        c.whiteouts++;
        const existing = state.get(spec.path);
        if (!existing) continue;
        const bytes = remove(under(spec.path));
        see(spec.path, existing.dir ? bytes : 0);
        continue;
      }
      ensureParents(spec.path);
      const dir = spec.op === 'dir';
      const size = spec.op === 'file' ? spec.size : 0;
      if (spec.op === 'file') c.files++;
      else if (dir) c.dirs++;
      else if (spec.op === 'symlink') c.symlinks++;
      else c.hardlinks++;
      const existing = state.get(spec.path);
      if (existing?.dir && dir) {
        state.set(spec.path, { dir, size, layer });
        continue;
      }
      if (existing) remove(under(spec.path), dir ? undefined : spec.path);
      if (!dir) {
        if (existing && existing.layer < layer) {
          c.modifiedFiles++;
          c.modifiedBytes += size;
        } else if (!existing) {
          c.addedFiles++;
          c.addedBytes += size;
        }
        see(spec.path, size);
      }
      state.set(spec.path, { dir, size, layer });
    }
    return c;

    function ensureParents(p: string) {
      const parts = p.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const a = parts.slice(0, i).join('/');
        const v = state.get(a);
        if (v && !v.dir) remove([a]);
        if (!v || !v.dir) state.set(a, { dir: true, size: 0, layer });
      }
    }
  });
  let smallest = 0;
  let total = 0;
  for (const s of sizes.values()) {
    smallest += s.smallest;
    total += s.total;
  }
  return { perLayer, wasted, wastedByPath, efficiency: total === 0 ? 1 : smallest / total, final: [...state.keys()].sort() };
}

const NAMES = ['a', 'b', 'a/x', 'a/y', 'b/x', 'a/x/deep', 'c'];
const spec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('file' as const), path: fc.constantFrom(...NAMES), size: fc.oneof(fc.constant(0), fc.nat(3000)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dir' as const), path: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('symlink' as const), path: fc.constantFrom(...NAMES), target: fc.constantFrom('/etc', 'a') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('hardlink' as const), path: fc.constantFrom(...NAMES), target: fc.constantFrom(...NAMES) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('whiteout' as const), path: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('opaque' as const), dir: fc.constantFrom('a', 'b', 'a/x') }) },
);

test('counts, changes, waste, efficiency and diff IDs match a model of the OCI layer rules, for any stack of layers', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(spec, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.constantFrom<Compression>('gzip', 'zstd', 'none'), { minLength: 1, maxLength: 3 }),
      async (layers, compressions) => {
        const built = await buildImage(layers, compressions);
        const report = await inspectRef(`oci:${built.layoutDir}`);
        const expected = model(layers);
        assert.deepEqual(report.problems, []);
        for (const [i, layer] of report.layers.entries()) {
          assert.equal(layer.diffId, built.diffIds[i]);
          assert.equal(layer.diffIdMatches, true);
          assert.equal(layer.uncompressedSize, built.uncompressed[i]);
          const { entries, files, dirs, symlinks, hardlinks, whiteouts, opaqueDirs, addedFiles, addedBytes, modifiedFiles, modifiedBytes, removedFiles, removedBytes } = layer;
          assert.deepEqual(
            { entries, files, dirs, symlinks, hardlinks, whiteouts, opaqueDirs, addedFiles, addedBytes, modifiedFiles, modifiedBytes, removedFiles, removedBytes },
            expected.perLayer[i],
            `layer ${i}`,
          );
          assert.equal(layer.wastedBytes, expected.wasted[i], `layer ${i} wasted`);
        }
        assert.equal(report.wastedBytes, expected.wasted.reduce((a, b) => a + b, 0));
        assert.ok(Math.abs(report.efficiency - expected.efficiency) < 1e-9, `efficiency ${report.efficiency}, model ${expected.efficiency}`);
        for (const { path: p, bytes } of report.topWasted) assert.equal(bytes, expected.wastedByPath.get(p), p);
        assert.equal(report.topWasted.length, Math.min(10, expected.wastedByPath.size));
        assert.deepEqual((report.tree ?? []).map((t) => t.path).sort(), expected.final);
        // The archive of the same layout is the same image.
        assert.deepEqual(await inspectRef(`oci-archive:${built.archive}`), report);
      },
    ),
    { numRuns: 60 },
  );
});

test('the config is summarised, and a diff ID the config gets wrong is reported', async () => {
  const built = await buildImage([[{ op: 'file', path: 'bin/sh', size: 10 }]], ['gzip'], {
    config: { Entrypoint: ['/bin/sh'], Cmd: ['-c', 'true'], Env: ['PATH=/bin'], User: '1000', WorkingDir: '/w', ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' } },
    history: [{ created_by: 'ADD sh /bin/sh' }, { created_by: 'ENV x', empty_layer: true }],
  });
  const report = await inspectRef(built.archive);
  assert.deepEqual(
    { ...report.config, history: report.config.history.map((h) => h.createdBy) },
    { os: 'linux', architecture: 'amd64', user: '1000', workingDir: '/w', entrypoint: ['/bin/sh'], cmd: ['-c', 'true'], env: ['PATH=/bin'], exposedPorts: ['80/tcp'], labels: { a: 'b' }, history: ['ADD sh /bin/sh', 'ENV x'] },
  );
  assert.equal(report.layers[0].createdBy, 'ADD sh /bin/sh');

  // Rewrite the config with a wrong diff ID: the manifest must then name the new config.
  const index = JSON.parse(fs.readFileSync(path.join(built.layoutDir, 'index.json'), 'utf8'));
  const manifestPath = path.join(built.layoutDir, 'blobs', 'sha256', index.manifests[0].digest.slice(7));
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const configPath = path.join(built.layoutDir, 'blobs', 'sha256', manifest.config.digest.slice(7));
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  config.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`];
  const write = (document: object) => {
    const bytes = Buffer.from(JSON.stringify(document));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    fs.writeFileSync(path.join(built.layoutDir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const newConfig = write(config);
  const newManifest = write({ ...manifest, config: { ...manifest.config, ...newConfig } });
  index.manifests[0] = { ...index.manifests[0], ...newManifest };
  fs.writeFileSync(path.join(built.layoutDir, 'index.json'), JSON.stringify(index));
  const bad = await inspectRef(`oci:${built.layoutDir}`);
  assert.equal(bad.layers[0].diffIdMatches, false);
  assert.equal(bad.layers[0].diffId, built.diffIds[0]);
  assert.match(bad.problems.join('\n'), /layer 0: the diff ID is sha256:[0-9a-f]{64}, the config says sha256:0{64}/);
});

test('a truncated layer, a missing blob and a file that is no image fail with what is wrong', async () => {
  const built = await buildImage([[{ op: 'file', path: 'f', size: 200_000 }]], ['gzip']);
  const index = JSON.parse(fs.readFileSync(path.join(built.layoutDir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(built.layoutDir, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const layerPath = path.join(built.layoutDir, 'blobs', 'sha256', manifest.layers[0].digest.slice(7));
  const whole = fs.readFileSync(layerPath);

  fs.writeFileSync(layerPath, whole.subarray(0, 100));
  await assert.rejects(inspectRef(`oci:${built.layoutDir}`), (err: Error) => isKind(err, 'InvalidArgument') && /layer 0 .* is truncated or corrupt/.test(err.message));

  fs.rmSync(layerPath);
  await assert.rejects(inspectRef(`oci:${built.layoutDir}`), (err: Error) => isKind(err, 'NotFound') && /has no blob/.test(err.message));

  const notImage = path.join(workDir, 'not-an-image.txt');
  fs.writeFileSync(notImage, 'hello\n'.repeat(200));
  await assert.rejects(inspectRef(notImage), /is not an image archive: not a tar file$/);
});

test('a layer listed by a number the image lacks is NoSuchLayer, before any layer is read', async () => {
  const built = await buildImage([[{ op: 'file', path: 'a', size: 1 }], [{ op: 'file', path: 'b', size: 1 }]], ['gzip']);
  const source = await openImageSource(`oci:${built.layoutDir}`);
  try {
    for (const layer of [2, -1]) {
      await assert.rejects(inspectImage(source, { platform: PLATFORM, files: new Set([0, layer]) }), (err) => {
        assert.ok(err instanceof NoSuchLayer && isKind(err, 'OutOfRange'));
        assert.deepEqual([err.layer, err.count, err.message], [layer, 2, `${built.layoutDir} has no layer ${layer}: it has 2 layers, 0 to 1`]);
        return true;
      });
    }
  } finally {
    await source.close();
  }
});

test('a docker save archive is read through its manifest.json', async () => {
  const built = await buildImage([[{ op: 'file', path: 'hello', size: 5 }], [{ op: 'whiteout', path: 'hello' }]], ['none']);
  const archive = path.join(workDir, 'docker-save.tar');
  await writeDockerSave(built, archive, 'example/hello:1');
  const report = await inspectRef(archive);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.layers.map((l) => l.diffId), built.diffIds);
  assert.deepEqual(report.layers.map((l) => [l.addedFiles, l.removedFiles, l.whiteouts]), [[1, 0, 0], [0, 1, 1]]);
  await assert.rejects(inspectRef(`oci-archive:${archive}:nope`), /has no image named nope/);
});
