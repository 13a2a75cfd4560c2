// A unix socket strata listens on (the gRPC socket, or the metrics
// endpoint's): created fresh at start, removed at stop.
import fs from 'fs-extra';
import net from 'node:net';
import path from 'node:path';
import { makeDirectories } from '../make-directories';
import { systemErrorText } from '../system-error';

/**
 * Makes the socket's directory, checks that a socket can be made in it, and
 * removes a socket that nobody listens on any more. Anything else at the
 * address is left alone.
 */
export async function claimSocketPath(address: string): Promise<void> {
  const dir = path.dirname(address);
  try {
    await makeDirectories(dir);
    // bind reports a read-only or closed directory only through grpc-js, in its own words.
    await fs.access(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw new Error(`cannot listen on ${address}: ${systemErrorText(err)}`);
  }
  let stat: fs.Stats;
  try {
    stat = await fs.lstat(address);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${address} exists and is not a socket; refusing to replace it`);
  if (await isListening(address)) throw new Error(`${address} is in use by a running server`);
  await fs.unlink(address);
}

function isListening(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(address);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}

export async function releaseSocketPath(address: string): Promise<void> {
  await fs.rm(address, { force: true });
}
