// The operator's HTTP endpoint: Prometheus text at /metrics and a health
// check at /healthz, on host:port or on a unix socket.
import http from 'node:http';
import type { Logger } from 'pino';
import { listenHttp, type HttpListener } from '../http-listener';
import type { Metrics } from './metrics';

export interface Health {
  ok: boolean;
  /** Each check by name: "ok", or what is wrong. */
  checks: Record<string, string>;
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

export async function serveHttpEndpoint(address: string, metrics: Metrics, health: () => Promise<Health>, log: Logger): Promise<HttpListener> {
  const server = http.createServer((request, response) => {
    respond(request, response, metrics, health).catch((err: Error) => {
      log.error({ err, path: request.url }, 'metrics endpoint failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  return listenHttp(server, address);
}
