// The bench's Go programs, built against Debian's containerd source:
// containerd's own layer applier (native-bench/go/reference), for the
// side-by-side figures, and a pull through containerd's unpacker
// (native-bench/go/pull), as CRI and nerdctl pull.
import path from 'node:path';
import { packageRoot } from '../src/package-root';
import { buildGoProgram } from './go-build';
import { run } from './system';

export function buildReference(workDir: string): Promise<string> {
  return buildGoProgram(path.join(packageRoot(), 'native-bench', 'go', 'reference'), 'containerd-reference', workDir);
}

export function buildPullClient(workDir: string): Promise<string> {
  return buildGoProgram(path.join(packageRoot(), 'native-bench', 'go', 'pull'), 'containerd-pull', workDir);
}

/** Pulls `reference` with the pull client built above, into `namespace` and `snapshotter`; the seconds the pull took. */
export async function pullWithUnpacker(pullClient: string, address: string, namespace: string, snapshotter: string, reference: string, plainHttp: boolean): Promise<number> {
  const printed = await run(pullClient, ['-address', address, '-namespace', namespace, '-snapshotter', snapshotter, ...(plainHttp ? ['-plain-http'] : []), reference]);
  return (JSON.parse(printed) as { seconds: number }).seconds;
}
