// Generated inputs are the same bytes every time, carry the same layers in
// every compression, and are what their image config says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openImageSource } from '../../src/images/open-source';
import { parsePlatform } from '../../src/images/platform';
import { resolveImage } from '../../src/images/resolve';
import { generatedImages } from './materialize';

test('generated images are deterministic, and each compression holds the same layers', async () => {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'strata-inputs-')));
  try {
    const [first, second] = await Promise.all(dirs.map((dir) => generatedImages(dir, 'whiteouts', ['gzip', 'zstd', 'none'], 0.02)));
    assert.deepEqual(first.map((i) => i.manifestDigest), second.map((i) => i.manifestDigest));
    const diffIds = first.map((i) => i.layers.map((l) => l.diffId));
    assert.deepEqual(diffIds[0], diffIds[1]);
    assert.deepEqual(diffIds[0], diffIds[2]);
    assert.equal(first[2].layers[0].descriptor.digest, first[2].layers[0].diffId, 'an uncompressed layer is its own diff ID');
    for (const input of first) {
      const image = await resolveImage(await openImageSource(`oci-archive:${input.archive}`), parsePlatform('linux/amd64'));
      assert.equal(image.manifestDescriptor.digest, input.manifestDigest);
      assert.deepEqual(image.config.rootfs.diff_ids, diffIds[0]);
      assert.ok((input.entries ?? 0) > 0);
    }
  } finally {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
});
