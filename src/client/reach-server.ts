// Whether the server a command needs is behind the socket it was given, and
// if not, one line that names the socket and says what to do. grpc-js reports
// a missing socket, a file that is not one, a socket nobody listens on and a
// refused permission all as "No connection established", with its internals;
// a server that is not the one asked for answers a call with Unimplemented.
import { status, type ServiceError } from '@grpc/grpc-js';
import fs from 'node:fs';
import net from 'node:net';
import { StrataError, unavailable } from '../errdefs';
import { connect, unaryCall, type StrataClient } from './connect';

export interface ServerSocket {
  address: string;
  /** Whose socket it should be. */
  server: 'strata' | 'containerd';
  /** The flag that names it, for what to do about it. */
  flag: string;
}

const SERVERS = {
  strata: { start: 'strata (strata serve)', service: 'strata.admin.v1.Admin' },
  containerd: { start: 'containerd', service: 'containerd.services.images.v1.Images' },
};

/** How long a server that accepted the connection has to answer the health check. */
const ANSWER_MS = 10_000;

function unreachable(socket: ServerSocket, code: string | undefined): StrataError {
  const { address, server, flag } = socket;
  const orStart = `start ${SERVERS[server].start}, or give its socket with ${flag}`;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return unavailable(`no ${server} socket at ${address}: ${orStart}`);
    case 'ECONNREFUSED':
      return unavailable(`nothing listens on ${address} (a socket left by a server that stopped): ${orStart}`);
    case 'EACCES':
    case 'EPERM':
      return unavailable(`permission denied on ${address}: run as root, or as a user in the socket's group`);
    default:
      return unavailable(`cannot connect to ${address} (${code ?? 'unknown error'}): ${orStart}`);
  }
}

/** The socket answers, but not as the server it should be. */
export function wrongServer(socket: ServerSocket): StrataError {
  const { address, server, flag } = socket;
  return unavailable(`${address} is not ${server}'s socket (the server there does not serve ${SERVERS[server].service}): give ${server}'s socket with ${flag}`);
}

/** Fails, with one line, unless something listens on the socket and lets this process connect. */
export async function checkSocket(socket: ServerSocket): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(socket.address);
  } catch (err) {
    throw unreachable(socket, (err as NodeJS.ErrnoException).code);
  }
  if (!stat.isSocket()) throw unavailable(`${socket.address} is not a socket: give ${socket.server}'s socket with ${socket.flag}`);
  await new Promise<void>((resolve, reject) => {
    const probe = net.connect(socket.address);
    probe.once('connect', () => {
      probe.destroy();
      resolve();
    });
    probe.once('error', (err: NodeJS.ErrnoException) => reject(unreachable(socket, err.code)));
  });
}

/**
 * A client for the strata behind the socket, once its health service says
 * strata's own service is SERVING there: containerd's socket serves most of
 * the same services, so only that one tells them apart.
 */
export async function openStrata(address: string, flag: string): Promise<StrataClient> {
  const socket: ServerSocket = { address, server: 'strata', flag };
  await checkSocket(socket);
  const client = connect(address);
  try {
    const { status: serving } = await unaryCall<object, { status: string }>(
      client.health,
      'Check',
      { service: SERVERS.strata.service },
      { deadline: Date.now() + ANSWER_MS },
    );
    if (serving !== 'SERVING') throw unavailable(`strata at ${address} is starting or shutting down (health ${serving}): try again`);
    return client;
  } catch (err) {
    client.close();
    if (err instanceof StrataError) throw err;
    if ((err as Partial<ServiceError>).code === status.DEADLINE_EXCEEDED) {
      throw unavailable(`strata at ${address} did not answer within ${ANSWER_MS / 1000} s: see strata's log`);
    }
    // NotFound (a health service without strata's), Unimplemented (no health service), or no gRPC at all.
    throw wrongServer(socket);
  }
}
