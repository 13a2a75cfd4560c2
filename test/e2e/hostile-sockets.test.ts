// Clients that misbehave on the socket itself: random bytes, connections
// that stop halfway through HTTP/2's preface, a thousand Read streams never
// read, and a Write that trickles in. None may crash or stall the server, and
// each may cost only bounded memory: the server's resident size is read from
// /proc while they hold on, and a well-behaved client is served meanwhile.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { readBlob, sha256, startStrataServer, writeBlob, type StrataServer } from '../support/strata-grpc';
import { rssBytes } from '../../native-bench/system';
import { tearDown } from '../support/teardown';

const MiB = 1024 * 1024;
const BLOB = randomBytes(4 * MiB);

/** A gRPC call frame: the 5-byte prefix and the message. */
function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** ReadContentRequest{digest} by hand: field 1, a string. */
function readRequest(digest: string): Buffer {
  const bytes = Buffer.from(digest);
  return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
}

function openSession(address: string): http2.ClientHttp2Session {
  const session = http2.connect('http://localhost', { createConnection: () => net.connect(address) });
  session.on('error', () => undefined);
  return session;
}

function grpcStream(session: http2.ClientHttp2Session, method: string): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': method,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => undefined);
  return stream;
}

describe('hostile clients on the socket', { timeout: 180_000 }, () => {
  let workDir = '';
  let server: StrataServer | undefined;
  const s = () => server as StrataServer;

  /** A well-behaved client's call still answers promptly. */
  async function stillServes(what: string): Promise<void> {
    const started = Date.now();
    const read = await readBlob(s().client.content, sha256(BLOB));
    assert.ok(read.equals(BLOB), `${what}: the blob read back differs`);
    await assert.rejects(unaryCall(s().client.snapshots, 'Stat', { snapshotter: 'strata', key: 'nope' }), /NOT_FOUND|not exist/);
    assert.ok(Date.now() - started < 10_000, `${what}: a normal client waited ${Date.now() - started} ms`);
  }

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-sockets-'));
    server = await startStrataServer(workDir, 'strata', 'overlayfs');
    await writeBlob(s().client.content, BLOB);
    await stillServes('at start');
  });

  after(() => tearDown(workDir, [() => server?.stop()]));

  it('random bytes, on connections closed and kept open', async () => {
    const open: net.Socket[] = [];
    for (let i = 0; i < 40; i++) {
      const socket = net.connect(s().address);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(randomBytes(64 * 1024));
      if (i % 2 === 0) socket.end();
      else open.push(socket);
    }
    await stillServes('after random bytes');
    for (const socket of open) socket.destroy();
  });

  it('connections that stop inside the preface, or after SETTINGS, or after a request header', async (t) => {
    const before = rssBytes(s().strata.pid);
    const sockets: net.Socket[] = [];
    const sessions: http2.ClientHttp2Session[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = net.connect(s().address);
      socket.on('error', () => undefined);
      socket.write('PRI * HTTP/2.0\r\n'.slice(0, i % 16));
      sockets.push(socket);
    }
    for (let i = 0; i < 100; i++) {
      const session = openSession(s().address);
      // A request whose body never comes: headers, no data, no end.
      if (i % 2 === 0) grpcStream(session, '/containerd.services.content.v1.Content/Write');
      sessions.push(session);
    }
    await sleep(1000);
    await stillServes('with 300 stalled connections');
    const grown = rssBytes(s().strata.pid) - before;
    t.diagnostic(`RSS grew by ${Math.round(grown / MiB)} MiB`);
    assert.ok(grown < 100 * MiB, `300 stalled connections cost ${Math.round(grown / MiB)} MiB`);
    for (const socket of sockets) socket.destroy();
    for (const session of sessions) session.destroy();
  });

  it('a client that opens 1,000 Read streams and never reads', async (t) => {
    const before = rssBytes(s().strata.pid);
    const session = openSession(s().address);
    const streams: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < 1000; i++) {
      const stream = grpcStream(session, '/containerd.services.content.v1.Content/Read');
      stream.pause();
      stream.end(grpcFrame(readRequest(sha256(BLOB))));
      streams.push(stream);
    }
    await sleep(3000);
    const grown = rssBytes(s().strata.pid) - before;
    t.diagnostic(`RSS grew by ${Math.round(grown / MiB)} MiB`);
    await stillServes('with 1,000 unread streams');
    assert.ok(grown < 300 * MiB, `1,000 unread Read streams of a 4 MiB blob cost ${Math.round(grown / MiB)} MiB`);
    session.destroy();
    // Their blob handles go once the streams do: a Delete and a fresh Write succeed.
    await sleep(500);
    await stillServes('after the unread streams went');
  });

  it('a Write that trickles in a byte at a time', async () => {
    const session = openSession(s().address);
    const stream = grpcStream(session, '/containerd.services.content.v1.Content/Write');
    // WriteContentRequest{action: WRITE(1), ref: "slow", offset: 0, data: 1 MiB}: header first, data a byte at a time.
    const ref = Buffer.from('slow-loris');
    const header = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, ref.length]), ref, Buffer.from([0x32, 0x80, 0x80, 0x40])]);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(header.length + MiB, 1);
    stream.write(Buffer.concat([prefix, header]));
    const trickle = (async () => {
      for (let i = 0; i < 60 && !stream.destroyed; i++) {
        stream.write(Buffer.from([i]));
        await sleep(50);
      }
    })();
    await sleep(500);
    await stillServes('during a trickling Write');
    await trickle;
    session.destroy();
    const { statuses } = await unaryCall<object, { statuses: { ref: string }[] }>(s().client.content, 'ListStatuses', { filters: [] });
    assert.deepEqual(statuses.map((st) => st.ref).filter((r) => r !== 'slow-loris'), []);
  });

  it('the server is still whole: it stops cleanly and restarts with the blob', async () => {
    await s().stop();
    server = await startStrataServer(workDir, 'strata', 'overlayfs');
    await stillServes('after a restart');
  });
});
