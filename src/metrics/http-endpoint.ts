// The operator's HTTP endpoint: Prometheus text at /metrics and a health
// check at /healthz, on host:port or on a unix socket.
import http from 'node:http';
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';

export interface Health {
  ok: boolean;
  /** Each check by name: "ok", or what is wrong. */
  checks: Record<string, string>;
}

export interface HttpEndpoint {
  /** host:port as bound (the port chosen when 0 was asked), or the socket path. */
  address: string;
  close(): Promise<void>;
}

async function respond(request: http.IncomingMessage, response: http.ServerResponse, metrics: Metrics, health: () => Promise<Health>): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://strata');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
  } else if (url.pathname === '/metrics') {
    const text = await metrics.scrape();
    response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
  } else if (url.pathname === '/healthz') {
    const result = await health();
    response.writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: result.ok ? 'ok' : 'unhealthy', checks: result.checks })}\n`);
  } else {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('strata serves /metrics and /healthz\n');
  }
}

export async function serveHttpEndpoint(address: string, metrics: Metrics, health: () => Promise<Health>, log: Logger): Promise<HttpEndpoint> {
  const server = http.createServer((request, response) => {
    respond(request, response, metrics, health).catch((err: Error) => {
      log.error({ err, path: request.url }, 'metrics endpoint failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  const unix = address.startsWith('/');
  if (unix) await fs.rm(address, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (unix) server.listen(address, resolve);
    else {
      const colon = address.lastIndexOf(':');
      server.listen(Number(address.slice(colon + 1)), address.slice(0, colon).replace(/^\[|\]$/g, '') || undefined, resolve);
    }
  });
  const bound = server.address();
  return {
    address: typeof bound === 'string' || bound === null ? address : `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (unix) await fs.rm(address, { force: true });
    },
  };
}
