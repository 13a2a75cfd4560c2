// `strata bench --containerd-address SOCK --registry HOST` runs the
// containerd arms on the user's own containerd and registry (here a private
// containerd from test/support/containerd-under-test and a docker-registry
// standing in for them), with a built-in snapshotter and a proxy the user
// runs (a strata of the test's own). It works in a namespace of its own and
// a repository of its own, and removes everything it made, at the end and
// when interrupted: the user's image, container, snapshots, content and
// leases, the content store's and snapshotters' directories, and the
// user's image in the registry, are as they were, and nothing of the
// bench's is left. A registry that refuses deletes is named in one line. A
// snapshotter the containerd lacks or did not load, and a socket that is
// not a containerd's, fail in one line before anything runs. Never a speed.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARM } from '../../native-bench/arm-names';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { startRegistry, type Registry } from '../../native-bench/harness/registry';
import { parseVersions } from '../../native-bench/harness/containerd-plugins';
import { startStrata, STRATA_CLI, type Strata } from '../../native-bench/harness/strata';
import { connect, type StrataClient } from '../../src/client/connect';
import { CONTAINERD } from '../support/containerd-under-test';
import { buildOciArchive } from '../support/oci-archive';
import { assertFailure, literal, runStrata } from '../support/strata-cli';
import { listAll } from '../support/strata-grpc';
import { dir, file } from '../support/tar-entries';
import { tearDown } from '../support/teardown';

const SNAPSHOTTERS = ['overlayfs', 'strata'];
const USERS_IMAGE = 'docker.io/user/app:v1';

describe("strata bench --containerd-address: the user's containerd, left as it was", { timeout: 300_000 }, () => {
  let workDir = '';
  let strata: Strata | undefined;
  let client: StrataClient | undefined;
  let containerd: Containerd | undefined;
  let registry: Registry | undefined;
  /** What the user has before the bench runs. */
  let users: Record<string, string[]> = {};

  const ctr = (args: string[], namespace = 'default') => (containerd as Containerd).ctr(args, namespace);
  const lines = (printed: string) => printed.split('\n').filter((line) => line.trim() !== '').sort();
  const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

  /** Everything of the containerd's that a bench could leave behind or take away. */
  async function state(): Promise<Record<string, string[]>> {
    const root = path.join((containerd as Containerd).dir, 'root');
    return {
      namespaces: lines(await ctr(['namespaces', 'ls', '--quiet'])),
      images: lines(await ctr(['images', 'ls', '--quiet'])),
      containers: lines(await ctr(['containers', 'ls', '--quiet'])),
      leases: lines(await ctr(['leases', 'ls', '--quiet'])),
      content: lines(await ctr(['content', 'ls', '--quiet'])),
      ...Object.fromEntries(await Promise.all(SNAPSHOTTERS.map(async (name) => [`${name} snapshots`, lines(await ctr(['snapshots', '--snapshotter', name, 'ls']))]))),
      blobs: entries(path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256')),
      ingests: entries(path.join(root, 'io.containerd.content.v1.content', 'ingest')),
      'overlayfs directories': entries(path.join(root, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots')),
      "strata's own snapshots": await listAll(client as StrataClient, 'snapshots'),
      'tags in the registry': await registryTags(),
    };
  }

  /** REPOSITORY:TAG for every tag in the user's registry (a repository stays listed once its tags are deleted). */
  async function registryTags(): Promise<string[]> {
    const host = (registry as Registry).host;
    const { repositories } = (await (await fetch(`http://${host}/v2/_catalog`)).json()) as { repositories: string[] };
    const tags = await Promise.all(
      repositories.map(async (repository) => {
        const listed = (await (await fetch(`http://${host}/v2/${repository}/tags/list`)).json()) as { tags: string[] | null };
        return (listed.tags ?? []).map((tag) => `${repository}:${tag}`);
      }),
    );
    return tags.flat().sort();
  }

  const bench = (work: string, extra: string[]) => [
    'bench', '--quick', '--json', '--groups', 'containerd', '--images', 'whiteouts', '--compressions', 'gzip',
    '--containerd-address', (containerd as Containerd).address, '--registry', `${(registry as Registry).host}/team`, '--plain-http',
    '--work', path.join(workDir, work), '--out', path.join(workDir, `${work}-out`), ...extra,
  ];

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-bench-address-'));
    strata = await startStrata({ root: path.join(workDir, 'strata-root'), address: path.join(workDir, 'strata.sock'), backend: 'overlayfs', logFile: path.join(workDir, 'strata.log') });
    client = connect(strata.options.address);
    // btrfs enabled off btrfs, as on many a machine: containerd lists it, skipped.
    containerd = await startContainerd({ strata: strata.options.address }, { namespace: 'default', parentDir: workDir, garbageCollection: 'on-deletion', binary: CONTAINERD, btrfsRoot: path.join(workDir, 'not-btrfs') });
    const image = await buildOciArchive({ dir: workDir, imageName: USERS_IMAGE, layers: [[dir('app'), file('app/config', "the user's")], [file('app/data', 'and more')]] });
    registry = await startRegistry();
    await registry.push(image.archivePath, 'team/app:v1');
    await ctr(['images', 'import', '--platform', 'linux/amd64', image.archivePath]);
    await ctr(['images', 'import', '--snapshotter', 'strata', '--platform', 'linux/amd64', image.archivePath]);
    // The user's container holds a snapshot of its own on top of the image's.
    await ctr(['containers', 'create', USERS_IMAGE, 'users-container', 'true']);
    users = await state();
    assert.ok(users.containers.length === 1 && users['overlayfs snapshots'].length === 4 && users["strata's own snapshots"].length === 2, JSON.stringify(users));
    assert.deepEqual(users['tags in the registry'], ['team/app:v1']);
  });

  after(() => tearDown(workDir, [() => client?.close(), () => containerd?.stop(), () => strata?.stop(), () => registry?.stop()]));

  it('runs every containerd arm there, for a built-in snapshotter and a proxy, records the stack, and leaves nothing behind', async () => {
    const run = await runStrata(bench('work', ['--snapshotter', SNAPSHOTTERS.join(',')]), { timeout: 240_000 });
    assert.equal(run.code, 0, `strata bench failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    const expected = SNAPSHOTTERS.flatMap((name) => [ARM.ctrImport(name, true), ARM.ctrImport(name, false), ARM.ctrPull(name), ARM.firstContainer(name), ARM.secondNamespacePull(name), ARM.removal(name)]);
    // The mirror pull needs the bench's own strata: none here.
    assert.deepEqual(report.measurements.map((m: { arm: string }) => m.arm).sort(), expected.sort());
    for (const m of report.measurements) assert.ok(m.seconds.n === 1 && Number.isFinite(m.seconds.p50), `${m.arm}: no figure`);
    assert.ok(report.ratios.some((r: { kind: string }) => r.kind === 'ctr pull: strata / overlayfs'));
    const server = parseVersions(await ctr(['version'])).server;
    assert.equal(report.stack.containerd.server, server);
    assert.equal(report.machine.containerd, server);
    assert.deepEqual(
      report.stack.snapshotters.map((p: { id: string; status: string }) => `${p.id} ${p.status}`),
      SNAPSHOTTERS.map((name) => `${name} ok`),
    );
    // Its images went to a repository of its own in the user's registry (listed still, with no tags), and are gone from it.
    const { repositories } = (await (await fetch(`http://${(registry as Registry).host}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(repositories.some((name) => /^team\/strata-bench-[0-9a-f]+\/whiteouts-gzip$/.test(name)), repositories.join(', '));
    assert.deepEqual(await state(), users);
  });

  it('says in one line that a registry refused to delete what it pushed, and does not fail for it', async () => {
    const refusing = await startRegistry({ refuseDeletes: true });
    try {
      const args = bench('refused', ['--snapshotter', 'overlayfs']).map((arg) => (arg === `${(registry as Registry).host}/team` ? refusing.host : arg));
      const run = await runStrata(args, { timeout: 240_000 });
      assert.equal(run.code, 0, run.stderr);
      // One line of its own, before the end of the run's summary (on stderr with --json).
      const said = run.stderr.split('\n').filter((line) => line.startsWith('strata bench:'));
      assert.equal(said.length, 1, run.stderr);
      assert.match(said[0], new RegExp(`^strata bench: the registry did not delete what the bench pushed under ${literal(refusing.host)}/strata-bench-[0-9a-f]+ \\(The operation is unsupported\\. \\(405 Method Not Allowed\\)\\); delete it there by hand$`));
      assert.ok(run.stderr.startsWith(said[0]), run.stderr);
    } finally {
      await refusing.stop();
    }
    assert.deepEqual(await state(), users);
  });

  it('interrupted (SIGINT) once its first sample has started, removes what it made and exits 130', async () => {
    const child = spawn(process.execPath, [STRATA_CLI, ...bench('interrupted', ['--snapshotter', SNAPSHOTTERS.join(',')])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The first sample has started once the bench's namespace holds content.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const namespace = lines(await ctr(['namespaces', 'ls', '--quiet'])).find((name) => /^strata-bench-[0-9a-f]+$/.test(name));
      if (namespace && lines(await ctr(['content', 'ls', '--quiet'], namespace)).length > 0) break;
      assert.ok(Date.now() < deadline, `no sample started in 120 s: ${stderr}`);
      await sleep(100);
    }
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.equal(stderr, '');
    assert.deepEqual(await state(), users);
  });

  it('a snapshotter the containerd lacks or skipped, and a socket that is not a containerd, fail in one line before anything runs', async () => {
    const refused = async (args: string[], message: RegExp) => {
      assertFailure(await runStrata(args, { timeout: 60_000 }), 1, message, `strata ${args.join(' ')}`);
      assert.deepEqual(await state(), users);
    };
    const address = literal((containerd as Containerd).address);
    await refused(bench('missing', ['--snapshotter', 'overlayfs,zfs']), new RegExp(`^strata: --snapshotter zfs: containerd \\(${address}\\) has no such snapshotter; it has btrfs, .*overlayfs, strata$`));
    await refused(bench('skipped', ['--snapshotter', 'btrfs']), /^strata: --snapshotter btrfs: status skip in containerd \(path \S+not-btrfs \(\w+\) must be a btrfs filesystem to be used with the btrfs snapshotter: skip plugin\)$/);
    // strata's own socket: a gRPC server, with no version service.
    const notContainerd = (strata as Strata).options.address;
    await refused(['bench', '--groups', 'containerd', '--containerd-address', notContainerd, '--work', path.join(workDir, 'strata-socket'), '--out', path.join(workDir, 'strata-socket-out')], new RegExp(`^strata: --containerd-address ${literal(notContainerd)}: not a containerd \\(ctr version failed: .+\\)$`));
  });
});
