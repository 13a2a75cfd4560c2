// What a command says when the socket it was given is not strata's: each
// case one line that names the socket and the flag, never grpc-js's own
// "No connection established" text. Permission denied needs a user other
// than root: test/e2e/socket-errors.test.ts covers it.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isKind } from '../errdefs';
import { HealthService } from '../server/health-service';
import { listen, type RunningServer } from '../server/grpc-server';
import { TEST_GRACE_MS, TEST_LISTEN } from '../testing/listen';
import { staleSocket } from '../testing/stale-socket';
import { checkSocket, openStrata } from './reach-server';

let dir: string;
const servers: RunningServer[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-reach-'));
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop(TEST_GRACE_MS);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A gRPC server on a socket in `dir`: its health service knows `services`, or there is none. */
async function serving(name: string, services: string[] | undefined, ready = true): Promise<string> {
  const address = path.join(dir, name);
  const health = services && new HealthService(services);
  servers.push(await listen(address, health?.bindings ?? [], TEST_LISTEN));
  if (ready) health?.serving();
  return address;
}

async function fails(address: string, message: RegExp): Promise<void> {
  await assert.rejects(openStrata(address, '--address'), (err: Error) => {
    assert.ok(isKind(err, 'Unavailable'), `${err.name}: ${err.message}`);
    assert.match(err.message, message);
    assert.ok(err.message.includes(address), err.message);
    assert.doesNotMatch(err.message, /\n|No connection established|Resolution note/);
    return true;
  });
}

test('a missing socket, or one under a file', async () => {
  await fails(path.join(dir, 'none.sock'), /^no strata socket at \S+: start strata \(strata serve\), or give its socket with --address$/);
  fs.writeFileSync(path.join(dir, 'file'), '');
  await fails(path.join(dir, 'file', 'strata.sock'), /^no strata socket at /);
});

test('a path that is not a socket: a file or a directory', async () => {
  fs.writeFileSync(path.join(dir, 'file'), '');
  await fails(path.join(dir, 'file'), /^\S+ is not a socket: give strata's socket with --address$/);
  await fails(dir, /^\S+ is not a socket: /);
});

test('a socket nobody listens on', async () => {
  const address = path.join(dir, 'stale.sock');
  await staleSocket(address);
  await fails(address, /^nothing listens on \S+ \(a socket left by a server that stopped\): start strata \(strata serve\), or give its socket with --address$/);
});

test("a gRPC server that is not strata: no health service, or one without strata's Admin", async () => {
  await fails(await serving('bare.sock', undefined), /^\S+ is not strata's socket \(the server there does not serve strata\.admin\.v1\.Admin\): give strata's socket with --address$/);
  await fails(await serving('other.sock', ['containerd.services.content.v1.Content']), /is not strata's socket/);
});

test('strata starting or shutting down, and strata serving', async () => {
  await fails(await serving('starting.sock', ['strata.admin.v1.Admin'], false), /^strata at \S+ is starting or shutting down \(health NOT_SERVING\): try again$/);
  const client = await openStrata(await serving('strata.sock', ['strata.admin.v1.Admin']), '--address');
  client.close();
});

test("containerd's socket is named with its own flag", async () => {
  await assert.rejects(checkSocket({ address: path.join(dir, 'none.sock'), server: 'containerd', flag: '--containerd-address' }), {
    message: `no containerd socket at ${path.join(dir, 'none.sock')}: start containerd, or give its socket with --containerd-address`,
  });
});
