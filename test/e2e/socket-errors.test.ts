// Every command that talks to a socket, given one it cannot use: missing, a
// file that is not a socket, a socket nobody listens on, one this user may
// not open, and one where another server listens (containerd's, for
// strata's; strata's, for containerd's). Each is one line on stderr naming
// the socket and the flag that gives the right one, with exit code 1.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { staleSocket } from '../../src/testing/stale-socket';
import { assertFailure, literal, runStrata, type CliOptions } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

/** Neither root nor in the sockets' group (strata's and containerd's are root's, 0660). */
const NOBODY = { uid: 65534, gid: 65534 };

describe('commands given a socket they cannot use', { timeout: 120_000 }, () => {
  let workDir = '';
  let strata: Strata | undefined;
  let containerd: Containerd | undefined;
  const paths = { missing: '', file: '', stale: '', strata: '', containerd: '' };

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-sockets-'));
    // nobody must reach the sockets' directory, to be refused by the socket itself.
    await fs.promises.chmod(workDir, 0o755);
    paths.missing = path.join(workDir, 'missing.sock');
    paths.file = path.join(workDir, 'file.sock');
    await fs.promises.writeFile(paths.file, '');
    paths.stale = path.join(workDir, 'stale.sock');
    await staleSocket(paths.stale);
    paths.strata = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root: path.join(workDir, 'strata-root'), address: paths.strata, backend: 'native', logFile: path.join(workDir, 'strata.log') });
    containerd = await startContainerd({}, { parentDir: workDir });
    paths.containerd = containerd.address;
  });

  after(() => tearDown(workDir, [() => containerd?.stop(), () => strata?.stop()]));

  /** What each kind of socket gets, for a command that wants `server`'s socket through `flag`. */
  function expectations(server: 'strata' | 'containerd', flag: string): { socket: string; options?: CliOptions; message: RegExp }[] {
    const start = server === 'strata' ? 'strata \\(strata serve\\)' : 'containerd';
    const other = server === 'strata' ? paths.containerd : paths.strata;
    const service = server === 'strata' ? 'strata\\.admin\\.v1\\.Admin' : 'containerd\\.services\\.images\\.v1\\.Images';
    const flagged = literal(flag);
    return [
      { socket: paths.missing, message: new RegExp(`no ${server} socket at ${literal(paths.missing)}: start ${start}, or give its socket with ${flagged}$`) },
      { socket: paths.file, message: new RegExp(`${literal(paths.file)} is not a socket: give ${server}'s socket with ${flagged}$`) },
      { socket: paths.stale, message: new RegExp(`nothing listens on ${literal(paths.stale)} \\(a socket left by a server that stopped\\): start ${start}, or give its socket with ${flagged}$`) },
      {
        socket: server === 'strata' ? paths.strata : paths.containerd,
        options: NOBODY,
        message: new RegExp(`permission denied on ${literal(server === 'strata' ? paths.strata : paths.containerd)}: run as root, or as a user in the socket's group$`),
      },
      { socket: other, message: new RegExp(`${literal(other)} is not ${server}'s socket \\(the server there does not serve ${service}\\): give ${server}'s socket with ${flagged}$`) },
    ];
  }

  async function check(command: (socket: string) => string[], server: 'strata' | 'containerd', flag: string, prefix = ''): Promise<void> {
    for (const { socket, options, message } of expectations(server, flag)) {
      const args = command(socket);
      const run = await runStrata(args, options);
      assertFailure(run, 1, new RegExp(`^strata: ${literal(prefix)}${message.source}`), `strata ${args.join(' ')}${options ? ' (as nobody)' : ''}`);
    }
  }

  it('strata gc --address', () => check((socket) => ['gc', '--address', socket], 'strata', '--address'));

  it('strata inspect strata:DIGEST --address', () => {
    const image = `strata:sha256:${'0'.repeat(64)}`;
    return check((socket) => ['inspect', image, '--address', socket], 'strata', '--address', `${image}: `);
  });

  it('strata inspect strata:NAME --containerd-address', () =>
    check((socket) => ['inspect', 'strata:docker.io/library/busybox:latest', '--address', paths.strata, '--containerd-address', socket], 'containerd', '--containerd-address', 'strata:docker.io/library/busybox:latest: '));
});
