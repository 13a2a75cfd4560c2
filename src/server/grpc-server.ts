// One grpc-js server on one unix socket, serving every strata service.
import * as grpc from '@grpc/grpc-js';
import fs from 'fs-extra';
import * as http2 from 'node:http2';
import { sendPreFramedAsIs } from './pre-framed-send';
import { claimSocketPath, releaseSocketPath } from './socket';
import { stagingPath } from './socket-path';

/** How much a client may send before the server has read it, per call and per connection. */
export const RECEIVE_WINDOW = 8 << 20;

export interface ServiceBinding {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface RunningServer {
  /** Stops accepting, lets calls in flight run for up to graceMs, cancels the rest, and removes the socket. */
  stop(graceMs: number): Promise<void>;
}

export interface ListenOptions {
  /** Who may connect: the socket is owned by root and this group, with these permission bits. */
  mode: number;
  gid: number;
  maxMessageBytes: number;
  maxStreamsPerConnection: number;
  /** See every call of every service (rpcObserver). */
  interceptors?: grpc.ServerInterceptor[];
}

export async function listen(address: string, services: ServiceBinding[], options: ListenOptions): Promise<RunningServer> {
  await claimSocketPath(address);
  sendPreFramedAsIs();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_concurrent_streams': options.maxStreamsPerConnection,
    // Channelz keeps per-call statistics that nothing here reads.
    'grpc.enable_channelz': 0,
    interceptors: options.interceptors ?? [],
  });
  for (const { definition, implementation } of services) server.addService(definition, implementation);
  // Bind under a staging name and rename once listening, so the socket only
  // ever appears at its address when it accepts connections.
  const staging = stagingPath(address);
  await fs.rm(staging, { force: true });
  let sessions: Set<http2.ServerHttp2Session>;
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${staging}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    sessions = openSessions(server, RECEIVE_WINDOW);
    await fs.chown(staging, 0, options.gid);
    await fs.chmod(staging, options.mode);
    await fs.rename(staging, address);
  } catch (err) {
    server.forceShutdown();
    await fs.rm(staging, { force: true });
    throw err;
  }
  return {
    async stop(graceMs) {
      await new Promise<void>((resolve) => {
        // Let calls in flight finish, but never hang a SIGTERM on a stuck client.
        const timer = setTimeout(() => {
          server.forceShutdown();
          // With channelz off, grpc-js 1.14 keeps no list of the sessions
          // forceShutdown should destroy: the calls on them would run on.
          for (const session of sessions) session.destroy(undefined, http2.constants.NGHTTP2_CANCEL);
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await releaseSocketPath(address);
    },
  };
}

/**
 * The server's open HTTP/2 sessions, each given a wider receive window.
 *
 * Node's HTTP/2 keeps a 64 KiB receive window per stream and per connection,
 * so a 1 MiB Write message waited on 16 window updates; containerd's Go
 * server grows its window to 16 MiB by BDP estimation. grpc-js has no server
 * option for it (its flow-control option is the client's), so each new
 * session of its listening servers gets the wider window here.
 */
function openSessions(server: grpc.Server, bytes: number): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  const listening = (server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
  if (!(listening instanceof Map)) throw new Error('grpc-js no longer keeps its HTTP/2 servers where strata looks for them');
  for (const http2Server of listening.keys()) {
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      session.settings({ initialWindowSize: bytes });
      session.setLocalWindowSize(bytes);
    });
  }
  return sessions;
}
