// A fleet on loopback: three nodes, each its own strata (root, socket,
// mirror port) and its own containerd 1.6 using strata as content store and
// snapshotter, pulling with a hosts.toml (config/hosts.toml's shape) that
// puts the node's own mirror before Debian's docker-registry. Node B's pull
// must take every layer from node A; node C's only peers lie or are down,
// and it must still end up with the right image, from the registry.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { generatedImages, type InputImage } from '../../native-bench/inputs/materialize';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { freePort, startRegistry, type Registry } from '../../native-bench/harness/registry';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { packageRoot } from '../../src/package-root';
import { tearDown } from '../support/teardown';
import { diffTrees, formatDifferences, readTree } from '../support/tree';

interface FleetNode {
  name: string;
  mirror: string;
  strata: Strata;
  containerd: Containerd;
  hostsDir: string;
}

const blobGets = (log: string) => log.split('\n').filter((line) => /"GET \/v2\/\S+\/blobs\/sha256:/.test(line)).length;

describe('a fleet of mirrors: nodes pull layers from each other', { timeout: 300_000 }, () => {
  let workDir = '';
  let registry: Registry | undefined;
  let input: InputImage;
  let liar: http.Server | undefined;
  const nodes: FleetNode[] = [];
  const mirrors: Record<string, string> = {};
  let treeOfA: Awaited<ReturnType<typeof readTree>> | undefined;

  async function startNode(name: string, peers: string[]): Promise<FleetNode> {
    const dir = path.join(workDir, name);
    await fs.promises.mkdir(dir);
    const address = path.join(dir, 'strata.sock');
    const configFile = path.join(dir, 'strata.toml');
    await fs.promises.writeFile(configFile, `[mirror]\naddress = "${mirrors[name]}"\npeers = ${JSON.stringify(peers.map((p) => `http://${p}`))}\npeer_timeout = "1s"\n`);
    const strata = await startStrata({ root: path.join(dir, 'root'), address, backend: 'overlayfs', logFile: path.join(dir, 'strata.log'), configFile });
    const containerd = await startContainerd({ strata: address }, { proxyContentStores: { 'strata-content': address }, disabledPlugins: ['io.containerd.content.v1.content'] });
    // The shipped hosts.toml, with this node's mirror and the test's registry as upstream.
    const hostsDir = path.join(dir, 'certs.d');
    const registryDir = path.join(hostsDir, (registry as Registry).host);
    await fs.promises.mkdir(registryDir, { recursive: true });
    const shipped = fs.readFileSync(path.join(packageRoot(), 'config/hosts.toml'), 'utf8');
    const hosts = shipped
      .replace(/^# server = .*$/m, `server = "http://${(registry as Registry).host}"`)
      .replace('[host."http://127.0.0.1:5050"]', `[host."http://${mirrors[name]}"]`);
    assert.notEqual(hosts, shipped);
    await fs.promises.writeFile(path.join(registryDir, 'hosts.toml'), hosts);
    const node = { name, mirror: mirrors[name], strata, containerd, hostsDir };
    nodes.push(node);
    return node;
  }

  const reference = () => `${(registry as Registry).host}/strata-e2e/fleet:v1`;
  const pull = (node: FleetNode) =>
    node.containerd.ctr(['images', 'pull', '--plain-http', '--hosts-dir', node.hostsDir, '--snapshotter', 'strata', '--platform', 'linux/amd64', reference()]);

  async function topTree(node: FleetNode) {
    const target = path.join(workDir, node.name, 'view');
    await fs.promises.mkdir(target, { recursive: true });
    const printed = await node.containerd.ctr(['snapshots', '--snapshotter', 'strata', 'view', '--target', target, `fleet-view-${node.name}`, input.chainIds[input.chainIds.length - 1]]);
    await mountPrintedCommands(printed, target);
    return readTree(target);
  }

  async function assertComplete(node: FleetNode) {
    const check = await node.containerd.ctr(['images', 'check']);
    const row = check.split('\n').find((line) => line.startsWith(reference()));
    assert.match(row ?? '', /complete \((\d+)\/\1\)/, `${node.name}: ${check}`);
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-fleet-'));
    [input] = await generatedImages(workDir, 'multi-layer', ['gzip'], 0.01);
    registry = await startRegistry();
    await registry.push(input.layoutDir, 'strata-e2e/fleet:v1');
    for (const name of ['a', 'b', 'c']) mirrors[name] = `127.0.0.1:${await freePort()}`;
    // A peer that has every blob A has, with one byte flipped.
    const liarPort = await freePort();
    liar = http.createServer((req, res) => {
      fetch(`http://${mirrors.a}${req.url}`, { method: req.method }).then(async (upstream) => {
        res.writeHead(upstream.status, { 'content-length': upstream.headers.get('content-length') ?? '0' });
        if (req.method === 'HEAD' || upstream.status !== 200) {
          res.end();
          return;
        }
        const body = Buffer.from(await upstream.arrayBuffer());
        body[body.length >> 1] ^= 0xff;
        res.end(body);
      }, () => res.writeHead(502).end());
    });
    await new Promise<void>((resolve) => (liar as http.Server).listen(liarPort, '127.0.0.1', resolve));
    await startNode('a', [mirrors.b]);
    await startNode('b', [mirrors.a]);
    await startNode('c', [`127.0.0.1:${liarPort}`, '127.0.0.1:1']);
  });

  after(() =>
    tearDown(workDir, [
      ...nodes.flatMap((node) => [() => node.containerd.stop(), () => node.strata.stop()]),
      () => registry?.stop(),
      () => new Promise<void>((resolve) => (liar ? liar.close(() => resolve()) : resolve())),
    ]),
  );

  it('A pulls from the registry; B then pulls with zero blob GETs at the registry, every layer from A', async (t) => {
    const [a, b] = nodes;
    const beforeA = blobGets((registry as Registry).log());
    await pull(a);
    await assertComplete(a);
    const fromRegistryA = blobGets((registry as Registry).log()) - beforeA;
    assert.ok(fromRegistryA >= input.layers.length, `A fetched ${fromRegistryA} blobs from the registry`);

    const beforeB = (registry as Registry).log().split('\n').length;
    const started = Date.now();
    await pull(b);
    const seconds = (Date.now() - started) / 1000;
    await assertComplete(b);
    const sinceB = (registry as Registry).log().split('\n').slice(beforeB - 1).join('\n');
    assert.equal(blobGets(sinceB), 0, `B's pull fetched blobs from the registry:\n${sinceB}`);
    assert.match(sinceB, /\/manifests\//, 'B resolved the tag at the registry');
    treeOfA = await topTree(a);
    const differences = diffTrees(treeOfA, await topTree(b), ['A', 'B']);
    assert.deepEqual(differences, [], formatDifferences(differences));
    t.diagnostic(`A fetched ${fromRegistryA} blobs from the registry; B's pull took ${seconds.toFixed(2)} s with none`);
  });

  it('C, whose peers lie or are down, still pulls the right image, from the registry', async () => {
    const c = nodes[2];
    const before = blobGets((registry as Registry).log());
    await pull(c);
    await assertComplete(c);
    assert.ok(blobGets((registry as Registry).log()) - before >= input.layers.length, 'the layers came from the registry');
    const differences = diffTrees(treeOfA ?? (await topTree(nodes[0])), await topTree(c), ['A', 'C']);
    assert.deepEqual(differences, [], formatDifferences(differences));
    assert.match(fs.readFileSync(c.strata.options.logFile, 'utf8'), /do not match their digest/);
  });
});
