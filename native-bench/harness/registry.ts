// A private registry for pulls: Debian's docker-registry (distribution 2.8)
// on 127.0.0.1 with its storage in a temporary directory, and skopeo to push
// OCI layouts into it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execCommand, startServer, stopServer } from './processes';

export interface Registry {
  /** host:port, for references such as 127.0.0.1:PORT/name:tag. */
  host: string;
  /** Copies an OCI layout directory, or an OCI archive, with one image in it to name:tag in the registry. */
  push(layout: string, name: string): Promise<void>;
  /** What docker-registry has logged: with its access log, one line per request. */
  log(): string;
  stop(): Promise<void>;
}

/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();

/** Where the kernel picks the local ports of outgoing connections (ip_local_port_range). */
function ephemeralLow(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Random picks before giving up: with thousands of ports to pick from, this many taken means they all are. */
const PICKS = 100;

/**
 * A TCP port on 127.0.0.1 that nothing holds, for a server started next.
 * It is chosen below the ephemeral range: a port the kernel handed out for
 * listen(0) can be taken, before the server binds it, as the local port of
 * any outgoing connection on the machine.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(1024, high - 12000);
  for (let pick = 0; pick < PICKS && low < high; pick++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port on 127.0.0.1 from ${low} up to ${high}, where the ephemeral range (ip_local_port_range) starts`);
}

export interface RegistryOptions {
  /** Requires this login (HTTP Basic, from an htpasswd file) for every request, pushes included. */
  login?: { username: string; password: string };
  /** Answers deletes with 405 Unsupported, as distribution does by default. */
  refuseDeletes?: boolean;
}

/**
 * Copies an OCI layout directory, or an OCI archive, with one image in it
 * to `reference` (HOST/NAME:TAG) with skopeo, digests kept; `flags` are
 * skopeo's, such as --dest-tls-verify=false.
 */
export async function pushLayout(layout: string, reference: string, flags: string[]): Promise<void> {
  const transport = (await fs.promises.stat(layout)).isFile() ? 'oci-archive' : 'oci';
  await execCommand('skopeo', ['copy', '--insecure-policy', '--quiet', '--preserve-digests', ...flags, `${transport}:${layout}`, `docker://${reference}`]);
}

/** distribution reads only bcrypt hashes from its htpasswd file. */
async function htpasswd(dir: string, login: { username: string; password: string }): Promise<string> {
  // A test-only dependency, so `strata bench` loads it only when a login is asked for.
  const bcrypt = await import('bcryptjs');
  const file = path.join(dir, 'htpasswd');
  await fs.promises.writeFile(file, `${login.username}:${await bcrypt.hash(login.password, 10)}\n`);
  return file;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  await fs.promises.writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'storage')}`,
      '  delete:',
      `    enabled: ${!options.refuseDeletes}`,
      'http:',
      `  addr: ${host}`,
      ...(options.login ? ['auth:', '  htpasswd:', '    realm: strata-test', `    path: ${await htpasswd(dir, options.login)}`] : []),
      '',
    ].join('\n'),
  );
  const login = options.login ? [`--dest-creds=${options.login.username}:${options.login.password}`] : [];
  const server = startServer('docker-registry', ['serve', config], path.join(dir, 'registry.log'));
  const stop = async () => {
    await stopServer(server, 'SIGTERM', 10_000);
    await fs.promises.rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; ; waited += 100) {
    // Up means answering: a registry with a login answers 401 to /v2/.
    const ready = await fetch(`http://${host}/v2/`).then((r) => r.ok || r.status === 401, () => false);
    if (ready) break;
    if (waited > 15_000 || server.child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry did not start on ${host}:\n${server.logTail()}`);
    }
    await sleep(100);
  }
  return {
    host,
    log: () => fs.readFileSync(server.logFile, 'utf8'),
    push: (layout, name) => pushLayout(layout, `${host}/${name}`, ['--dest-tls-verify=false', ...login]),
    stop,
  };
}
