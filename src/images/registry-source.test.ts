// A registry source against a local server playing the registry's part:
// what it says when a request gets no answer, when --plain-http meets a TLS
// port, and when a blob's connection breaks part way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { isKind } from '../errdefs';
import { readBlob } from './resolve';
import { RegistrySource } from './registry-source';
import { MEDIA_TYPES } from './types';

async function withServer(handler: http.RequestListener, fn: (host: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const source = (host: string, plainHttp: boolean) => new RegistrySource({ host, repository: 'app', reference: 'v1' }, { plainHttp });
const unavailable = (message: string) => (err: unknown) => isKind(err, 'Unavailable') && (err as Error).message === message;

test('a plain-HTTP registry reached over HTTPS says to add --plain-http', () =>
  withServer(
    (_, res) => res.end('{}'),
    async (host) => {
      await assert.rejects(source(host, false).top(), unavailable(`docker://${host}/app:v1: ${host} answered in plain HTTP, not HTTPS: add --plain-http for a registry without TLS`));
    },
  ));

test('--plain-http to a TLS port, as Go servers answer it, says to leave the flag out', () =>
  withServer(
    (_, res) => res.writeHead(400).end('Client sent an HTTP request to an HTTPS server.\n'),
    async (host) => {
      await assert.rejects(source(host, true).top(), unavailable(`docker://${host}/app:v1: ${host} serves HTTPS: leave out --plain-http`));
    },
  ));

test('a blob whose connection breaks part way says so, not fetch\'s "terminated"', () =>
  withServer(
    (_, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.destroy(), 20);
    },
    async (host) => {
      const blob = { mediaType: MEDIA_TYPES.ociConfig, digest: `sha256:${'a'.repeat(64)}`, size: 100_000 };
      await assert.rejects(readBlob(source(host, true), blob), unavailable(`docker://${host}/app:v1: GET blobs/${blob.digest}: ${host} stopped sending part way through; try again`));
    },
  ));
