import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ImagePlans } from './image-plans';

const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const layers = ['a', 'b', 'c'].map((name) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(`blob ${name}`), size: 10 }));
const diffIds = ['a', 'b', 'c'].map((name) => digest(`tar ${name}`));
const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });
const manifest = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('config'), size: config.length }, layers });

test('a manifest and its config, in either order, plan every layer with its diff ID and OCI chain ID', () => {
  for (const order of [['manifest', 'config'], ['config', 'manifest']]) {
    const plans = new ImagePlans();
    for (const which of order) assert.equal(plans.note(which === 'manifest' ? digest('manifest') : digest('config'), which === 'manifest' ? manifest : config), true);
    const planned = [...plans.plans()];
    assert.deepEqual(planned.map((p) => [p.index, p.layer.digest, p.diffId]), layers.map((l, i) => [i, l.digest, diffIds[i]]));
    // ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)), as the OCI image spec defines it.
    const chain1 = digest(`${diffIds[0]} ${diffIds[1]}`);
    assert.deepEqual(planned.map((p) => p.chainId), [diffIds[0], chain1, digest(`${chain1} ${diffIds[2]}`)]);
    assert.deepEqual(planned.map((p) => p.parentChainId), [undefined, diffIds[0], chain1]);
  }
});

test('nothing is planned without both halves, when they disagree on the layers, or for what is not an image', () => {
  const plans = new ImagePlans();
  assert.equal(plans.note(digest('manifest'), manifest), true);
  assert.deepEqual([...plans.plans()], []);
  assert.equal(plans.note(digest('config'), json({ rootfs: { type: 'layers', diff_ids: diffIds.slice(0, 2) } })), true);
  assert.deepEqual([...plans.plans()], [], 'two diff IDs for three layers');
  for (const other of [Buffer.from('not json'), json({ layers: 'x' }), json({ config: { digest: 'nope' }, layers }), json({ config: { digest: digest('c') }, layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: digest('h'), size: 1 }] })]) {
    assert.equal(plans.note(digest(other.toString()), other), false, other.toString());
  }
  plans.note(digest('config'), config);
  assert.equal([...plans.plans()].length, 3);
  plans.forget(digest('manifest'));
  assert.deepEqual([...plans.plans()], []);
});
