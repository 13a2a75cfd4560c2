import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { testMetrics } from '../testing/listen';
import { serveHttpEndpoint } from './http-endpoint';

function get(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: urlPath }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('serves /metrics and /healthz on a unix socket, and removes the socket on close', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-metrics-'));
  const socket = path.join(dir, 'metrics.sock');
  let healthy = true;
  const metrics = testMetrics();
  const endpoint = await serveHttpEndpoint(socket, metrics, async () => ({ ok: healthy, checks: { root: healthy ? 'ok' : 'gone' } }), pino({ level: 'silent' }));
  try {
    assert.equal(endpoint.address, socket);
    metrics.readBytes.inc(42);
    const scraped = await get(socket, '/metrics');
    assert.equal(scraped.status, 200);
    assert.match(scraped.body, /^strata_content_read_bytes_total 42$/m);
    assert.match(scraped.body, /^strata_blobs 0$/m);
    assert.deepEqual(await get(socket, '/healthz'), { status: 200, body: '{"status":"ok","checks":{"root":"ok"}}\n' });
    healthy = false;
    assert.deepEqual(await get(socket, '/healthz'), { status: 503, body: '{"status":"unhealthy","checks":{"root":"gone"}}\n' });
  } finally {
    await endpoint.close();
  }
  assert.equal(fs.existsSync(socket), false);
  fs.rmSync(dir, { recursive: true });
});

test('a TCP address on port 0 reports the port it bound', async () => {
  const endpoint = await serveHttpEndpoint('127.0.0.1:0', testMetrics(), async () => ({ ok: true, checks: {} }), pino({ level: 'silent' }));
  try {
    assert.match(endpoint.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(endpoint.address, '127.0.0.1:0');
    assert.equal((await fetch(`http://${endpoint.address}/metrics`)).status, 200);
  } finally {
    await endpoint.close();
  }
});
