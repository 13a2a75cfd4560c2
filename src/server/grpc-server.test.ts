import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_GRACE_MS, TEST_LISTEN } from '../testing/listen';
import { listen, RECEIVE_WINDOW } from './grpc-server';
import { loadServices } from './proto';

test('a client may send a whole receive window before the server reads, per call and per connection', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-grpc-server-'));
  const address = path.join(dir, 'strata.sock');
  const server = await listen(address, [{ definition: loadServices().content, implementation: {} }], TEST_LISTEN);
  const session = http2.connect('http://localhost', { createConnection: () => net.connect(address) });
  try {
    // Node's first SETTINGS frame has its defaults; the wider window follows,
    // in a second SETTINGS frame and a WINDOW_UPDATE for the connection.
    for (let i = 0; i < 100 && !(session.remoteSettings.initialWindowSize === RECEIVE_WINDOW && session.state.remoteWindowSize === RECEIVE_WINDOW); i++) {
      await sleep(10);
    }
    assert.equal(session.remoteSettings.initialWindowSize, RECEIVE_WINDOW, 'the stream window the server advertises');
    assert.equal(session.state.remoteWindowSize, RECEIVE_WINDOW, 'the connection window the server grants');
  } finally {
    session.destroy();
    await server.stop(TEST_GRACE_MS);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a listen that fails once its socket is bound leaves no socket behind, and no server running', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-grpc-server-'));
  try {
    // chown takes no gid past 2^32-1, and comes after the bind.
    await assert.rejects(listen(path.join(dir, 'strata.sock'), [{ definition: loadServices().content, implementation: {} }], { ...TEST_LISTEN, gid: 2 ** 32 }), {
      code: 'ERR_OUT_OF_RANGE',
    });
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
