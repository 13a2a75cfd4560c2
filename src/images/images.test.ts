// Image sources over layouts written by the layout writer: a directory and
// its archive give the same image, platforms are chosen as containerd
// chooses them, and a blob that does not match its digest is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isKind } from '../errdefs';
import { LayoutWriter, packLayout } from './layout-writer';
import { openImageSource } from './open-source';
import { parsePlatform } from './platform';
import { dockerCredentials, parseChallenge } from './registry-auth';
import { parseRegistryReference } from './registry-reference';
import { chainIds, readBlob, resolveImage } from './resolve';
import { MEDIA_TYPES, REF_NAME_ANNOTATION, type Descriptor } from './types';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-images-'));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Two single-layer images, amd64 and arm64, under one ref name. */
async function writeLayout(dir: string): Promise<{ layers: Record<string, Buffer> }> {
  const writer = await LayoutWriter.create(dir);
  const layers: Record<string, Buffer> = {};
  const manifests: Descriptor[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const layer = Buffer.from(`layer for ${architecture}\n`.repeat(1000));
    layers[architecture] = layer;
    const layerDescriptor = await writer.writeBlob(MEDIA_TYPES.ociLayer, Readable.from([layer]));
    const config = await writer.writeJson(MEDIA_TYPES.ociConfig, { architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDescriptor.digest] } });
    const manifest = await writer.writeJson(MEDIA_TYPES.ociManifest, { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layerDescriptor] });
    manifests.push({ ...manifest, platform: { os: 'linux', architecture }, annotations: { [REF_NAME_ANNOTATION]: 'v1' } });
  }
  await writer.finish(manifests);
  return { layers };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a layout directory and its archive give the same image, for each platform', () =>
  withDir(async (dir) => {
    const layout = path.join(dir, 'layout');
    const { layers } = await writeLayout(layout);
    await packLayout(layout, path.join(dir, 'image.tar'));
    for (const reference of [`oci:${layout}`, `oci:${layout}:v1`, `oci-archive:${dir}/image.tar`, `${dir}/image.tar`, layout]) {
      for (const architecture of ['amd64', 'arm64']) {
        const source = await openImageSource(reference);
        const image = await resolveImage(source, parsePlatform(`linux/${architecture}`));
        assert.equal(image.config.architecture, architecture, reference);
        assert.ok((await readAll(await source.open(image.manifest.layers[0]))).equals(layers[architecture]), reference);
        await source.close();
      }
    }
    const source = await openImageSource(`oci:${layout}`);
    await assert.rejects(resolveImage(source, parsePlatform('linux/s390x')), (err) => isKind(err, 'NotFound') && /linux\/amd64, linux\/arm64/.test((err as Error).message));
    await assert.rejects(openImageSource(`oci:${layout}:v2`).then((s) => s.top()), (err) => isKind(err, 'NotFound'));
  }));

test('a blob that does not match its digest is refused; a missing one is NotFound', () =>
  withDir(async (dir) => {
    await writeLayout(dir);
    const source = await openImageSource(`oci:${dir}`);
    const image = await resolveImage(source, parsePlatform('linux/amd64'));
    const blob = path.join(dir, 'blobs', 'sha256', image.manifest.config.digest.slice(7));
    fs.writeFileSync(blob, fs.readFileSync(blob).toString().replace('amd64', 'AMD64'));
    await assert.rejects(resolveImage(source, parsePlatform('linux/amd64')), (err) => isKind(err, 'FailedPrecondition'));
    const missing = { mediaType: MEDIA_TYPES.ociLayer, digest: `sha256:${'0'.repeat(64)}`, size: 1 };
    await assert.rejects(readBlob(source, missing), (err) => isKind(err, 'NotFound'));
    await assert.rejects(openImageSource(path.join(dir, 'blobs')).then((s) => s.top()), (err) => isKind(err, 'NotFound'));
  }));

test('a tar with no image in it says so; one that stops between members before any is truncated', () =>
  withDir(async (dir) => {
    fs.writeFileSync(path.join(dir, 'notes'), 'not an image\n');
    const plain = path.join(dir, 'plain.tar');
    execFileSync('tar', ['-cf', plain, '-C', dir, 'notes']);
    const kind = (message: string) => (err: unknown) => isKind(err, 'InvalidArgument') && (err as Error).message === message;
    await assert.rejects(openImageSource(plain), kind(`${plain} is not an image archive: a tar with neither oci-layout (an OCI archive) nor manifest.json (docker save)`));
    // Everything but the end-of-archive blocks: notes' header and one block of data.
    const cut = path.join(dir, 'cut.tar');
    fs.writeFileSync(cut, fs.readFileSync(plain).subarray(0, 1024));
    await assert.rejects(openImageSource(`oci-archive:${cut}`), kind(`${cut} is truncated: the tar stops without its end-of-archive blocks, before any oci-layout or manifest.json`));
  }));

test('registry references are read as Docker reads them', () => {
  assert.deepEqual(parseRegistryReference('alpine'), { host: 'docker.io', repository: 'library/alpine', reference: 'latest' });
  assert.deepEqual(parseRegistryReference('127.0.0.1:5000/a/b:v2'), { host: '127.0.0.1:5000', repository: 'a/b', reference: 'v2' });
  assert.deepEqual(parseRegistryReference('localhost/x'), { host: 'localhost', repository: 'x', reference: 'latest' });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseRegistryReference(`ghcr.io/o/r@${digest}`), { host: 'ghcr.io', repository: 'o/r', reference: digest });
  for (const bad of ['', 'UPPER/case', 'a b', 'x@sha256:zz', 'x:bad tag']) assert.throws(() => parseRegistryReference(bad), (err) => isKind(err, 'InvalidArgument'));
});

test('auth challenges and docker login credentials are read', () =>
  withDir(async (dir) => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry"'), { scheme: 'basic', params: { realm: 'Registry' } });
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ auths: { 'r.example:5000': { auth: Buffer.from('me:s3:cret').toString('base64') } } }));
    assert.deepEqual(dockerCredentials('r.example:5000', config), { username: 'me', password: 's3:cret' });
    assert.equal(dockerCredentials('other.example', config), undefined);
  }));

test('chain IDs follow the image spec', () => {
  const a = `sha256:${'a'.repeat(64)}`;
  const b = `sha256:${'b'.repeat(64)}`;
  const [first, second] = chainIds([a, b]);
  assert.equal(first, a);
  assert.equal(second, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`);
});
