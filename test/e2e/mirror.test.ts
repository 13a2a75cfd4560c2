// strata's OCI distribution mirror over real HTTP: blobs and manifests by
// digest from the local store, as a registry answers them, and blobs from
// peers (other stratas' mirrors), verified before any byte is served.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../native-bench/harness/registry';
import { peakRssBytes, resetPeakRss, rssBytes } from '../../native-bench/system';
import { contentInfo, grpcCode, sha256, startStrataServer, writeBlob, type StrataServer } from '../support/strata-grpc';
import { tearDown } from '../support/teardown';
import { scrape } from '../support/prometheus';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request: the path is sent as written, dot segments and all. */
function request(host: string, method: string, rawPath: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port: Number(port), method, path: rawPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET, keeping only the body's length and digest: many large answers at once stay small here. */
function getDigest(host: string, rawPath: string): Promise<{ status: number; length: number; digest: string }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port: Number(port), path: rawPath, agent: false }, (res) => {
        const hash = createHash('sha256');
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          length += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length, digest: `sha256:${hash.digest('hex')}` }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const errorCode = (answer: Answer) => (JSON.parse(answer.body.toString()) as { errors: { code: string }[] }).errors[0].code;

describe('the distribution mirror', { timeout: 120_000 }, () => {
  let workDir = '';
  const servers: StrataServer[] = [];
  const hosts: Record<string, string> = {};
  const fakePeers: http.Server[] = [];
  let liarGets = 0;
  const blob = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
  const digest = sha256(blob);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));
  const manifestDigest = sha256(manifest);
  const lacking = sha256('nobody has this');

  const metricsOf: Record<string, string> = {};

  async function node(name: string, extra: string): Promise<StrataServer> {
    const port = await freePort();
    hosts[name] = `127.0.0.1:${port}`;
    metricsOf[name] = `127.0.0.1:${await freePort()}`;
    const server = await startStrataServer(workDir, name, 'native', `[metrics]\naddress = "${metricsOf[name]}"\n[mirror]\naddress = "127.0.0.1:${port}"\n${extra}`);
    servers.push(server);
    return server;
  }

  /** A peer on a port of its own that says it has every blob (HEAD: 200, the blob's length) and answers a GET with sendBody. */
  async function fakePeer(name: string, sendBody: (res: http.ServerResponse) => void): Promise<void> {
    const peer = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      if (req.method === 'HEAD') res.end();
      else sendBody(res);
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    fakePeers.push(peer);
    hosts[name] = `127.0.0.1:${(peer.address() as AddressInfo).port}`;
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-mirror-'));
    const a = await node('a', '');
    await writeBlob(a.client.content, blob);
    await writeBlob(a.client.content, manifest);
    // A peer that has every blob, and flips a byte of each.
    await fakePeer('liar', (res) => {
      liarGets++;
      const bad = Buffer.from(blob);
      bad[1000] ^= 1;
      res.end(bad);
    });
    // A peer that has every blob and dies halfway through sending it.
    await fakePeer('dying', (res) => res.write(blob.subarray(0, blob.length >> 1), () => res.destroy()));
    await node('b', `peers = ["http://${hosts.a}"]\n`);
    await node('dropped', `peers = ["http://${hosts.dying}"]\n`);
    await node('cached', `peers = ["http://${hosts.a}"]\ncache = true\n`);
    await node('lied-to', `peers = ["http://${hosts.liar}"]\n`);
    await node('isolated', 'peers = ["http://127.0.0.1:1"]\npeer_timeout = "300ms"\n');
    await node('by-dns', `peers_dns = "localhost:${hosts.a.split(':')[1]}"\n`);
    await node('library-only', `registries = ["docker.io/library", "ghcr.io"]\npeers = ["http://${hosts.a}"]\n`);
  });

  after(() =>
    tearDown(workDir, [
      ...servers.map((s) => () => s.stop()),
      ...fakePeers.map((peer) => () => new Promise<void>((resolve) => peer.close(() => resolve()))),
    ]),
  );

  it('answers /v2/, and blobs by digest with a registry\'s headers, HEAD and ranges', async () => {
    assert.equal((await request(hosts.a, 'GET', '/v2/')).status, 200);
    const got = await request(hosts.a, 'GET', `/v2/library/app/blobs/${digest}?ns=docker.io`);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(blob));
    assert.equal(got.headers['docker-content-digest'], digest);
    assert.equal(got.headers['content-length'], String(blob.length));
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    const head = await request(hosts.a, 'HEAD', `/v2/library/app/blobs/${digest}`);
    assert.deepEqual([head.status, head.headers['content-length'], head.body.length], [200, String(blob.length), 0]);
    const ranged = await request(hosts.a, 'GET', `/v2/library/app/blobs/${digest}`, { range: 'bytes=100-1099' });
    assert.deepEqual([ranged.status, ranged.headers['content-range']], [206, `bytes 100-1099/${blob.length}`]);
    assert.ok(ranged.body.equals(blob.subarray(100, 1100)));
    const suffix = await request(hosts.a, 'GET', `/v2/library/app/blobs/${digest}`, { range: 'bytes=-10' });
    assert.ok(suffix.body.equals(blob.subarray(blob.length - 10)));
    assert.equal((await request(hosts.a, 'GET', `/v2/library/app/blobs/${digest}`, { range: `bytes=${blob.length}-` })).status, 416);
  });

  it('answers manifests by digest with their media type, and tags, unknown digests, bad names and writes as a registry would', async () => {
    const got = await request(hosts.a, 'GET', `/v2/library/app/manifests/${manifestDigest}`);
    assert.deepEqual([got.status, got.headers['content-type']], [200, 'application/vnd.oci.image.manifest.v1+json']);
    assert.ok(got.body.equals(manifest));
    const tag = await request(hosts.a, 'GET', '/v2/library/app/manifests/latest');
    assert.deepEqual([tag.status, errorCode(tag)], [404, 'MANIFEST_UNKNOWN']);
    const unknown = await request(hosts.a, 'GET', `/v2/library/app/blobs/${lacking}`);
    assert.deepEqual([unknown.status, errorCode(unknown)], [404, 'BLOB_UNKNOWN']);
    for (const bad of [`/v2/../../etc/blobs/${digest}`, `/v2/a/..%2f..%2fetc/blobs/${digest}`, `/v2/UPPER/blobs/${digest}`]) {
      const answer = await request(hosts.a, 'GET', bad);
      assert.equal(answer.status, 404, bad);
      assert.ok(['NAME_INVALID', 'UNSUPPORTED'].includes(errorCode(answer)), bad);
    }
    const badDigest = await request(hosts.a, 'GET', '/v2/library/app/blobs/sha256:../../metadata.db');
    assert.equal(badDigest.status, 404);
    assert.equal((await request(hosts.a, 'PUT', `/v2/library/app/blobs/${digest}`)).status, 405);
  });

  it('serves 100 concurrent GETs of a 16 MiB blob, every one whole, streaming: memory goes with the readers, not the bytes', async (t) => {
    const a = servers[0];
    const large = Buffer.alloc(16 << 20);
    for (let i = 0; i < large.length; i += 4096) large[i] = i % 253;
    const largeDigest = await writeBlob(a.client.content, large);
    const before = rssBytes(a.strata.pid);
    resetPeakRss(a.strata.pid);
    const answers = await Promise.all(Array.from({ length: 100 }, () => getDigest(hosts.a, `/v2/library/app/blobs/${largeDigest}`)));
    const grew = peakRssBytes(a.strata.pid) - before;
    assert.deepEqual(answers.filter((answer) => answer.status !== 200 || answer.length !== large.length || answer.digest !== largeDigest).length, 0);
    // Holding what it serves would take 1,600 MiB.
    assert.ok(grew < 160 * 2 ** 20, `the server's RSS grew by ${grew} bytes while serving`);
    t.diagnostic(`peak RSS grew by ${(grew / 2 ** 20).toFixed(1)} MiB serving ${((100 * large.length) / 2 ** 20).toFixed(0)} MiB`);
  });

  it('a slow reader gets every byte, and a reader that goes midway leaves no file open', async () => {
    const a = servers[0];
    const fds = () => fs.readdirSync(`/proc/${a.strata.pid}/fd`).length;
    const baseline = fds();
    const [hostname, port] = hosts.a.split(':');
    const slow = await new Promise<Buffer>((resolve, reject) => {
      http.get({ hostname, port: Number(port), path: `/v2/library/app/blobs/${digest}`, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          // 5 ms per chunk: the server waits on the socket, not the reader on the server.
          res.pause();
          setTimeout(() => res.resume(), 5);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.ok(slow.equals(blob));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ hostname, port: Number(port), path: `/v2/library/app/blobs/${digest}`, agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
      });
    }
    for (let i = 0; i < 100 && fds() > baseline; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(fds() <= baseline, `the server holds ${fds() - baseline} more files than before`);
  });

  it("serves a blob it lacks from a peer, and a peer's request from its own store only", async () => {
    const got = await request(hosts.b, 'GET', `/v2/library/app/blobs/${digest}`);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(blob));
    assert.equal((await request(hosts.b, 'HEAD', `/v2/library/app/blobs/${digest}`)).headers['content-length'], String(blob.length));
    // Without cache = true, b keeps nothing of it.
    const b = servers.find((s) => s.address.endsWith('b.sock')) as StrataServer;
    await assert.rejects(contentInfo(b.client.content, digest), (err) => grpcCode(err) === 5);
    const fromPeer = await request(hosts.b, 'GET', `/v2/library/app/blobs/${digest}`, { 'x-strata-mirror-peer': '1' });
    assert.equal(fromPeer.status, 404);
    assert.equal((await request(hosts.b, 'GET', `/v2/library/app/blobs/${lacking}`)).status, 404);
    const counted = await scrape(metricsOf.b);
    assert.equal(counted.get('strata_mirror_peer_bytes_total'), blob.length);
    assert.equal(counted.get('strata_mirror_upstream_fallbacks_total'), 1, 'the peer-marked request is no fallback; the lacking digest is');
    assert.equal((await scrape(metricsOf.a)).get('strata_mirror_local_bytes_total')! >= 2 * blob.length, true);
  });

  it('finds peers by DNS (peers_dns), and mirrors only the registries and repositories it is given', async () => {
    const byDns = await request(hosts['by-dns'], 'GET', `/v2/library/app/blobs/${digest}`);
    assert.equal(byDns.status, 200);
    assert.ok(byDns.body.equals(blob));
    for (const [pathAndQuery, status] of [
      [`/v2/library/app/blobs/${digest}?ns=docker.io`, 200],
      [`/v2/someone/app/blobs/${digest}?ns=docker.io`, 404],
      [`/v2/org/app/blobs/${digest}?ns=ghcr.io`, 200],
      [`/v2/library/app/blobs/${digest}?ns=quay.io`, 404],
    ] as const) {
      assert.equal((await request(hosts['library-only'], 'GET', pathAndQuery)).status, status, pathAndQuery);
    }
  });

  it('with cache = true, keeps what a peer served, verified, in its own store', async () => {
    const got = await request(hosts.cached, 'GET', `/v2/library/app/blobs/${digest}`);
    assert.ok(got.body.equals(blob));
    const cached = servers.find((s) => s.address.endsWith('cached.sock')) as StrataServer;
    assert.equal((await contentInfo(cached.client.content, digest)).size, blob.length);
  });

  it("never serves a peer's bytes that do not match the digest, and skips that peer afterwards", async () => {
    const first = await request(hosts['lied-to'], 'GET', `/v2/library/app/blobs/${digest}`);
    assert.deepEqual([first.status, errorCode(first)], [404, 'BLOB_UNKNOWN']);
    assert.equal(liarGets, 1);
    await request(hosts['lied-to'], 'GET', `/v2/library/app/blobs/${digest}`);
    assert.equal(liarGets, 1, 'the lying peer is not asked again');
    const counted = await scrape(metricsOf['lied-to']);
    assert.equal(counted.get('strata_mirror_digest_mismatches_total'), 1);
    assert.equal(counted.get('strata_mirror_upstream_fallbacks_total'), 2);
  });

  it('a peer that dies midway is never served from: 404, and its partial bytes are gone from the spool', async () => {
    const answer = await request(hosts.dropped, 'GET', `/v2/library/app/blobs/${digest}`);
    assert.deepEqual([answer.status, errorCode(answer)], [404, 'BLOB_UNKNOWN']);
    const dropped = servers.find((s) => s.address.endsWith('dropped.sock')) as StrataServer;
    const spool = path.join(dropped.root, 'tmp', 'mirror-spool');
    assert.deepEqual(fs.existsSync(spool) ? fs.readdirSync(spool) : [], []);
  });

  it('with every peer down, answers 404, so containerd goes upstream', async (t) => {
    const started = Date.now();
    const answer = await request(hosts.isolated, 'GET', `/v2/library/app/blobs/${digest}`);
    assert.deepEqual([answer.status, errorCode(answer)], [404, 'BLOB_UNKNOWN']);
    t.diagnostic(`404 after ${Date.now() - started} ms (peer_timeout 300 ms)`);
  });
});
