// The registry image source against a real registry: Debian's
// docker-registry on 127.0.0.1, an image pushed with skopeo, then read back
// over the distribution API by tag and by digest, layer bytes verified.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isKind } from '../../src/errdefs';
import { openImageSource } from '../../src/images/open-source';
import { parsePlatform } from '../../src/images/platform';
import { resolveImage } from '../../src/images/resolve';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { tearDown } from '../support/teardown';

describe('images from a real registry (docker-registry, skopeo)', { timeout: 120_000 }, () => {
  let workDir = '';
  let registry: Registry | undefined;
  let input: InputImage;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-registry-'));
    [input] = await generatedImages(workDir, 'whiteouts', ['zstd'], 0.02);
    registry = await startRegistry();
    await registry.push(input.layoutDir, 'strata-e2e/whiteouts:v1');
  });

  after(() => tearDown(workDir, [() => registry?.stop()]));

  it('resolves a tag and a digest to the pushed image, and streams its layers', async () => {
    const host = (registry as Registry).host;
    for (const reference of [`docker://${host}/strata-e2e/whiteouts:v1`, `docker://${host}/strata-e2e/whiteouts@${input.manifestDigest}`]) {
      const source = await openImageSource(reference, { plainHttp: true });
      const image = await resolveImage(source, parsePlatform('linux/amd64'));
      assert.equal(image.manifestDescriptor.digest, input.manifestDigest, reference);
      assert.deepEqual(image.config.rootfs.diff_ids, input.layers.map((l) => l.diffId));
      for (const layer of image.manifest.layers) {
        const hash = createHash('sha256');
        for await (const chunk of await source.open(layer)) hash.update(chunk as Buffer);
        assert.equal(`sha256:${hash.digest('hex')}`, layer.digest);
      }
      await source.close();
    }
  });

  it('a missing tag is NotFound, a closed port Unavailable', async () => {
    const host = (registry as Registry).host;
    const missing = await openImageSource(`docker://${host}/strata-e2e/whiteouts:nope`, { plainHttp: true });
    await assert.rejects(missing.top(), (err) => isKind(err, 'NotFound'));
    const closed = await openImageSource('docker://127.0.0.1:1/strata-e2e/whiteouts:v1', { plainHttp: true });
    await assert.rejects(closed.top(), (err) => isKind(err, 'Unavailable'));
  });
});
