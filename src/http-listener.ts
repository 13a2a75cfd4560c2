// An HTTP server listening on host:port, or on a unix socket path, for the
// metrics endpoint and the registry mirror.
import type http from 'node:http';
import { claimSocketPath, releaseSocketPath } from './server/socket';

export interface HttpListener {
  /** host:port as bound (the port chosen when 0 was asked), or the socket path. */
  address: string;
  /** Ends open connections, stops listening, and removes a unix socket. */
  close(): Promise<void>;
}

export async function listenHttp(server: http.Server, address: string): Promise<HttpListener> {
  const unix = address.startsWith('/');
  // A stale socket is replaced and anything else refused: the path is the operator's to give, and could name any file.
  if (unix) await claimSocketPath(address);
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
      if (unix) await releaseSocketPath(address);
    },
  };
}
