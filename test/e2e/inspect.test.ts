// `strata inspect` as users run it: the built CLI reading one test image
// from an OCI archive, an OCI layout, strata's content store after a real
// containerd imported it, and a real registry (Debian's docker-registry, the
// image pushed with skopeo). All four give the same JSON, and --diff takes
// its IMAGE before or after the layer numbers. Then the ways it fails: a
// registry that refuses (401, 404), or is reached without --plain-http or
// not at all, a strata socket that is not there, a platform the image lacks,
// corrupt, truncated, empty and imageless archives, and bad usage (layer
// numbers out of range among it); each one line on stderr, exit code 1 or 2.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { freePort, startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import type { InspectReport } from '../../src/inspect/inspect-image';
import { buildSpecImage, writeDockerSave, type BuiltImage, type Spec } from '../../src/testing/spec-image';
import { assertFailure, literal, runStrata, type CliRun } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

const execFileAsync = promisify(execFile);

const IMAGE_NAME = 'strata-e2e/inspect:v1';
const LOGIN = { username: 'strata', password: 'e2e-secret' };

/** Whiteouts, an opaque directory, overwrites and hardlinks, over gzip, zstd and plain layers. */
const LAYERS: Spec[][] = [
  [
    { op: 'dir', path: 'etc' },
    { op: 'file', path: 'etc/config', size: 40_000 },
    { op: 'file', path: 'etc/old', size: 9_000 },
    { op: 'dir', path: 'var/cache' },
    { op: 'file', path: 'var/cache/a', size: 70_000 },
    { op: 'file', path: 'var/cache/b', size: 5_000 },
    { op: 'symlink', path: 'etc/link', target: 'config' },
  ],
  [
    { op: 'file', path: 'etc/config', size: 41_000 },
    { op: 'whiteout', path: 'etc/old' },
    { op: 'opaque', dir: 'var/cache' },
    { op: 'file', path: 'var/cache/c', size: 1_000 },
    { op: 'hardlink', path: 'etc/config-copy', target: 'etc/config' },
  ],
  [
    { op: 'whiteout', path: 'etc/link' },
    { op: 'file', path: 'bin/tool', size: 120_000 },
  ],
];

const CONFIG = {
  config: { Entrypoint: ['/bin/tool'], Env: ['PATH=/bin'], WorkingDir: '/etc' },
  history: [{ created_by: 'ADD etc var' }, { created_by: 'RUN update' }, { created_by: 'COPY tool /bin/tool' }],
};

function strataInspect(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  return runStrata(['inspect', ...args], { env });
}

async function inspectJson(args: string[], env?: NodeJS.ProcessEnv): Promise<InspectReport> {
  const run = await strataInspect([...args, '--json', '--platform', 'linux/amd64'], env);
  assert.equal(run.code, 0, `strata inspect ${args.join(' ')} failed: ${run.stderr}`);
  assert.equal(run.stderr, '', 'nothing on stderr when it is not a terminal');
  return JSON.parse(run.stdout) as InspectReport;
}

/** Fails with `code`, saying what is wrong on one line of stderr and nothing on stdout. */
async function assertFails(args: string[], code: number, message: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  assertFailure(await strataInspect(args, env), code, message, `strata inspect ${args.join(' ')}`);
}

describe('strata inspect on the same image from an archive, a layout, strata behind containerd, and a registry', { timeout: 180_000 }, () => {
  let workDir = '';
  let image: BuiltImage;
  let strata: Strata | undefined;
  let containerd: Containerd | undefined;
  let registry: Registry | undefined;
  let guarded: Registry | undefined;
  let socket = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-inspect-'));
    image = await buildSpecImage(workDir, LAYERS, ['gzip', 'zstd', 'none'], CONFIG);
    socket = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root: path.join(workDir, 'strata-root'), address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log') });
    containerd = await startContainerd(
      { strata: socket },
      { proxyContentStores: { 'strata-content': socket }, disabledPlugins: ['io.containerd.content.v1.content'], parentDir: workDir },
    );
    [registry, guarded] = await Promise.all([startRegistry(), startRegistry({ login: LOGIN })]);
    await registry.push(image.layoutDir, IMAGE_NAME);
    await guarded.push(image.layoutDir, IMAGE_NAME);
  });

  after(() => tearDown(workDir, [() => containerd?.stop(), () => strata?.stop(), () => registry?.stop(), () => guarded?.stop()]));

  it('gives identical JSON from all four places, with the image as it was built', async () => {
    const fromArchive = await inspectJson([`oci-archive:${image.archive}`]);
    assert.deepEqual(fromArchive.problems, []);
    assert.equal(fromArchive.manifest.digest, image.manifestDigest);
    assert.deepEqual(fromArchive.layers.map((l) => [l.diffId, l.diffIdMatches, l.uncompressedSize]), image.diffIds.map((d, i) => [d, true, image.uncompressed[i]]));
    assert.deepEqual(fromArchive.layers.map((l) => l.createdBy), CONFIG.history.map((h) => h.created_by));
    // Layer 1 overwrites etc/config (40,000 bytes) and hides var/cache (75,000) and etc/old (9,000); layer 2 removes a symlink.
    assert.deepEqual(fromArchive.layers.map((l) => l.wastedBytes), [124_000, 0, 0]);
    assert.deepEqual(fromArchive.layers.map((l) => [l.whiteouts, l.opaqueDirs, l.hardlinks]), [[0, 0, 0], [1, 1, 1], [1, 0, 0]]);

    assert.deepEqual(await inspectJson([`oci:${image.layoutDir}`]), fromArchive, 'the OCI layout');

    const running = containerd as Containerd;
    await running.ctr(['images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', '--index-name', IMAGE_NAME, image.archive]);
    const throughContainerd = ['--address', socket, '--containerd-address', running.address, '--namespace', running.namespace];
    assert.deepEqual(await inspectJson([`strata:${IMAGE_NAME}`, ...throughContainerd]), fromArchive, 'strata, by the name containerd gave it');
    assert.deepEqual(await inspectJson([`strata:${image.manifestDigest}`, '--address', socket]), fromArchive, 'strata, by manifest digest');

    const host = (registry as Registry).host;
    assert.deepEqual(await inspectJson([`docker://${host}/${IMAGE_NAME}`, '--plain-http']), fromArchive, 'the registry, by tag');
    assert.deepEqual(await inspectJson([`docker://${host}/strata-e2e/inspect@${image.manifestDigest}`, '--plain-http']), fromArchive, 'the registry, by digest');

    // A registry that wants a login takes it from ~/.docker/config.json.
    const home = path.join(workDir, 'home');
    const guardedHost = (guarded as Registry).host;
    await fs.promises.mkdir(path.join(home, '.docker'), { recursive: true });
    const auth = Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64');
    await fs.promises.writeFile(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [guardedHost]: { auth } } }));
    assert.deepEqual(await inspectJson([`docker://${guardedHost}/${IMAGE_NAME}`, '--plain-http'], { ...process.env, HOME: home }), fromArchive, 'the registry with a login');
  });

  it('the human report is a table with sizes in human units', async () => {
    const run = await strataInspect([`oci:${image.layoutDir}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(image.manifestDigest));
    assert.match(run.stdout, /\d+(\.\d+)? KiB/);
    assert.match(run.stdout, /var\/cache\/a/, 'the top wasted paths');
  });

  it('--diff takes IMAGE after its layer numbers (the README order) or before --diff, and two images', async () => {
    const layout = `oci:${image.layoutDir}`;
    const diff = async (args: string[]) => {
      const run = await strataInspect(args);
      assert.equal(run.code, 0, `strata inspect ${args.join(' ')}: ${run.stderr}`);
      return JSON.parse(run.stdout) as { a: string; b: string; differences: { path: string; change: string }[] };
    };
    const readme = await diff(['--diff', '0', '2', layout, '--json']);
    const changes = readme.differences.map((d) => `${d.change} ${d.path}`);
    for (const change of ['added bin/tool', 'removed etc/config', 'removed var/cache/a']) assert.ok(changes.includes(change), `${change} in ${changes.join(', ')}`);
    assert.deepEqual(await diff(['--json', '--diff', '0', '2', layout]), readme);
    assert.deepEqual(await diff([layout, '--diff', '0', '2', '--json']), readme);
    const images = await diff(['--diff', layout, `oci-archive:${image.archive}`, '--json']);
    assert.deepEqual(images.differences, [], 'an image is the same as its archive');
    await assertFails(['--diff', '0', '2'], 2, /^strata: --diff 0 2: layer numbers need an IMAGE/);
    await assertFails(['--diff', layout, layout, layout], 2, /with an IMAGE, A and B are layer numbers/);
  });

  it('a registry that refuses says so, with its HTTP status', async () => {
    const host = (registry as Registry).host;
    await assertFails([`docker://${host}/strata-e2e/inspect:nope`, '--plain-http'], 1, /404/);
    const guardedHost = (guarded as Registry).host;
    const home = path.join(workDir, 'no-login-home');
    await fs.promises.mkdir(home, { recursive: true });
    await assertFails([`docker://${guardedHost}/${IMAGE_NAME}`, '--plain-http'], 1, /401.*no login for/, { ...process.env, HOME: home });
    const wrong = path.join(workDir, 'wrong-login-home');
    await fs.promises.mkdir(path.join(wrong, '.docker'), { recursive: true });
    await fs.promises.writeFile(path.join(wrong, '.docker', 'config.json'), JSON.stringify({ auths: { [guardedHost]: { auth: Buffer.from('strata:wrong').toString('base64') } } }));
    await assertFails([`docker://${guardedHost}/${IMAGE_NAME}`, '--plain-http'], 1, /401 Unauthorized.*not accepted/, { ...process.env, HOME: wrong });
  });

  it('a registry reached the wrong way, or not at all, is one line naming the host and what to do', async () => {
    const host = (registry as Registry).host;
    const ref = (at: string) => `docker://${at}/${IMAGE_NAME}`;
    await assertFails([ref(host)], 1, new RegExp(`^strata: ${literal(ref(host))}: ${literal(host)} answered in plain HTTP, not HTTPS: add --plain-http for a registry without TLS$`));
    const closed = `127.0.0.1:${await freePort()}`;
    await assertFails([ref(closed), '--plain-http'], 1, new RegExp(`^strata: ${literal(ref(closed))}: ${literal(closed)} refused the connection: no registry listens on port \\d+ there; check the host and port$`));
    await assertFails([ref('no-such-host.invalid')], 1, /^strata: docker:\/\/no-such-host\.invalid\/\S+: cannot resolve no-such-host\.invalid(: no such host| now: DNS did not answer)/);
    await assertFails([ref('127.0.0.1:1'), '--plain-http'], 1, /: fetch will not connect to port 1 \(a port browsers block\): serve the registry on another port$/);
  });

  it('a strata socket that is not there, or a blob strata lacks, is one clear line', async () => {
    await assertFails([`strata:${image.manifestDigest}`, '--address', path.join(workDir, 'nothing.sock')], 1, /nothing\.sock/);
    await assertFails([`strata:sha256:${'0'.repeat(64)}`, '--address', socket], 1, /does not exist/);
  });

  it('a platform the image lacks fails; a malformed one is bad usage', async () => {
    await assertFails([`oci:${image.layoutDir}`, '--platform', 'linux/s390x'], 1, /no image for linux\/s390x \(it has linux\/amd64\)/);
    await assertFails([`oci:${image.layoutDir}`, '--platform', 'linux'], 2, /--platform/);
  });

  it('corrupt and truncated archives, and what is no image at all, fail cleanly', async () => {
    const whole = await fs.promises.readFile(image.archive);
    const truncated = path.join(workDir, 'truncated.tar');
    await fs.promises.writeFile(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await assertFails([`oci-archive:${truncated}`], 1, /truncated|corrupt|unexpected end/i);
    const corrupt = path.join(workDir, 'corrupt.tar');
    const flipped = Buffer.from(whole);
    for (let i = 2048; i < flipped.length; i += 997) flipped[i] ^= 0x5a;
    await fs.promises.writeFile(corrupt, flipped);
    await assertFails([`oci-archive:${corrupt}`], 1, /./);
    const text = path.join(workDir, 'notes.txt');
    await fs.promises.writeFile(text, 'not an image\n'.repeat(100));
    await assertFails([text], 1, /is not an image archive: not a tar file$/);
    await assertFails([path.join(workDir, 'missing.tar')], 1, /no such file/);
  });

  it('an archive cut short (OCI, docker save), an empty file and a tar of other files each say what they are', async () => {
    const cut = async (archive: string) => {
      const file = `${archive}.cut`;
      const bytes = await fs.promises.readFile(archive);
      await fs.promises.writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      return file;
    };
    // skopeo writes oci-layout last, after the blobs, and docker save its manifest.json: a cut archive has lost both.
    const skopeo = path.join(workDir, 'skopeo.tar');
    await execFileAsync('skopeo', ['copy', '--insecure-policy', '--quiet', `oci:${image.layoutDir}`, `oci-archive:${skopeo}`]);
    const oci = await cut(skopeo);
    // Where 60% falls, in a blob or a header, depends on how well the layers compress.
    const blob = 'blobs/sha256/[0-9a-f]{64}';
    await assertFails([oci], 1, new RegExp(`^strata: ${literal(oci)} is truncated: the tar ends early, (inside ${blob} \\(\\d+ of its \\d+ bytes\\)|in a header \\(after ${blob}\\))$`));
    await assertFails([`oci-archive:${oci}`], 1, /is truncated: the tar ends early/);
    const saved = path.join(workDir, 'docker-save.tar');
    await writeDockerSave(await buildSpecImage(workDir, LAYERS, ['none'], CONFIG), saved, IMAGE_NAME);
    const docker = await cut(saved);
    await assertFails([docker], 1, new RegExp(`^strata: ${literal(docker)} is truncated: the tar ends early, inside [0-9a-f]{64}/layer\\.tar \\(\\d+ of its \\d+ bytes\\)$`));

    const empty = path.join(workDir, 'empty.tar');
    await fs.promises.writeFile(empty, '');
    await assertFails([empty], 1, new RegExp(`^strata: ${literal(empty)} is empty \\(0 bytes\\), not an image archive$`));
    const files = path.join(workDir, 'files');
    await fs.promises.mkdir(files);
    await fs.promises.writeFile(path.join(files, 'readme.txt'), 'hello\n');
    const plain = path.join(workDir, 'files.tar');
    await execFileAsync('tar', ['-cf', plain, '-C', files, '.']);
    const neither = `^strata: ${literal(plain)} is not an image archive: a tar with neither oci-layout \\(an OCI archive\\) nor manifest\\.json \\(docker save\\)$`;
    await assertFails([plain], 1, new RegExp(neither));
    await assertFails([`oci-archive:${plain}`], 1, new RegExp(neither));
  });

  it('bad usage exits 2', async () => {
    await assertFails([], 2, /IMAGE/);
    await assertFails([`oci:${image.layoutDir}`, '--no-such-flag'], 2, /no-such-flag/);
    await assertFails([`oci:${image.layoutDir}`, '--layer', '1'], 2, /--layer goes with --files/);
  });

  it('a layer number the image lacks, or that is no layer number, is bad usage naming the layers there are', async () => {
    const layout = `oci:${image.layoutDir}`;
    const range = new RegExp(`^strata: --layer (9|-1): ${image.layoutDir} has 3 layers, 0 to 2$`);
    await assertFails([layout, '--files', '--layer', '9'], 2, range);
    await assertFails([layout, '--files', '--layer', '-1'], 2, range);
    for (const word of ['x', '1.5']) await assertFails([layout, '--files', '--layer', word], 2, new RegExp(`^strata: --layer ${word.replace('.', '\\.')}: not a layer number \\(a whole number, 0 for the lowest layer\\)$`));
    await assertFails(['--diff', '0', '3', layout], 2, new RegExp(`^strata: --diff 3: ${image.layoutDir} has 3 layers, 0 to 2$`));
    await assertFails([layout, '--diff', '-1', '0'], 2, /^strata: --diff -1: .* has 3 layers, 0 to 2$/);
  });
});
