// How long a unix socket's path may be. Linux keeps it in sun_path, 108
// bytes with the closing NUL, and bind cuts a longer path short without a
// word: the socket appears under another name.
import path from 'node:path';

export const SOCKET_PATH_MAX = 107;

/** Where the gRPC server binds before renaming the socket onto `address`: beside it, so the rename stays on one filesystem. */
export function stagingPath(address: string, pid = process.pid): string {
  return path.join(path.dirname(address), `.${path.basename(address)}.${pid}`);
}

/** The longest gRPC address whose staging path fits too, whatever the pid (pid_max is at most 2^22). */
export const ADDRESS_MAX = SOCKET_PATH_MAX - (stagingPath('/s', 2 ** 22).length - '/s'.length);
