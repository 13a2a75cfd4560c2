// fetch's failures against real local servers (plain HTTP where HTTPS was
// asked for, a self-signed certificate, a closed port, a connection closed
// unanswered, a name that does not resolve) and, for what a test machine
// cannot stage, by their codes: each one line naming the host and what to do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fetchFailure } from './fetch-failure';

let dir = '';
const servers: net.Server[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-fetch-failure-'));
});
after(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function listening(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** What fetch(url) fails with, in fetchFailure's words. */
async function failure(url: string, byFlag = true): Promise<string> {
  try {
    await fetch(url);
  } catch (err) {
    return fetchFailure(new URL(url), err, byFlag);
  }
  throw new Error(`${url} answered`);
}

test('HTTPS to a plain-HTTP registry says so, and that --plain-http reaches it', async () => {
  const port = await listening(http.createServer((_, res) => res.end('{}')));
  assert.equal(await failure(`https://127.0.0.1:${port}/v2/`), `127.0.0.1:${port} answered in plain HTTP, not HTTPS: add --plain-http for a registry without TLS`);
  // A token service's scheme is the registry's choice, not the flag's.
  assert.equal(await failure(`https://127.0.0.1:${port}/token`, false), `127.0.0.1:${port} answered https://127.0.0.1:${port} in plain HTTP, not HTTPS`);
});

test('a self-signed certificate names the host and NODE_EXTRA_CA_CERTS', async () => {
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const port = await listening(https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_, res) => res.end('{}')));
  assert.equal(
    await failure(`https://127.0.0.1:${port}/v2/`),
    `127.0.0.1:${port}'s TLS certificate is not trusted (self-signed, or from a CA this machine does not know): give strata the CA's certificate with NODE_EXTRA_CA_CERTS=FILE.pem`,
  );
});

test('a closed port, a connection closed unanswered, a name that does not resolve, a port fetch refuses', async () => {
  const closed = await listening(net.createServer());
  await new Promise((resolve) => servers.pop()?.close(resolve));
  assert.equal(await failure(`http://127.0.0.1:${closed}/v2/`), `127.0.0.1:${closed} refused the connection: no registry listens on port ${closed} there; check the host and port`);
  const hangUp = await listening(net.createServer((socket) => socket.destroy()));
  assert.equal(await failure(`http://127.0.0.1:${hangUp}/v2/`), `127.0.0.1:${hangUp} closed the connection before answering: if it serves HTTPS, leave out --plain-http`);
  assert.equal(await failure(`https://127.0.0.1:${hangUp}/v2/`), `127.0.0.1:${hangUp} closed the connection before answering: check that a registry serves HTTPS on port ${hangUp}`);
  // .invalid never resolves (RFC 6761); without a DNS server the lookup fails for now instead.
  assert.match(await failure('https://no-such-host.invalid/v2/'), /^cannot resolve no-such-host\.invalid(: no such host; check the name| now: DNS did not answer; check this machine's network and DNS)$/);
  assert.equal(await failure('http://127.0.0.1:6000/v2/'), 'fetch will not connect to port 6000 (a port browsers block): serve the registry on another port');
});

test('what a test cannot stage is worded by its code', () => {
  const url = new URL('https://registry.example:5000/v2/');
  const failed = (code: string, message = 'library words') => fetchFailure(url, Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) }), true);
  assert.equal(failed('CERT_HAS_EXPIRED'), "registry.example:5000's TLS certificate has expired: renew it, or check this machine's clock");
  assert.equal(failed('ERR_TLS_CERT_ALTNAME_INVALID'), "registry.example:5000's TLS certificate is not for registry.example: reach the registry by a name its certificate has");
  assert.equal(failed('UND_ERR_CONNECT_TIMEOUT'), 'registry.example:5000 did not answer: the connection timed out; check the host, port and any firewall');
  assert.equal(failed('EHOSTUNREACH'), "no route to registry.example:5000: check the address and this machine's network");
  assert.equal(failed('EPROTO', 'first line\nsecond line'), 'cannot reach https://registry.example:5000: first line');
  // localhost is tried at each of its addresses; the first one's reason stands for all.
  const aggregate = Object.assign(new TypeError('fetch failed'), { cause: new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5000'), { code: 'ECONNREFUSED' })]) });
  assert.match(fetchFailure(url, aggregate, true), /^registry\.example:5000 refused the connection/);
});
