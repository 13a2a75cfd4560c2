// The bench's Go programs, built against Debian's containerd source:
// containerd's own layer applier (native-bench/go/reference), for the
// side-by-side figures, and a pull through containerd's unpacker
// (native-bench/go/pull), as CRI and nerdctl pull.
import path from 'node:path';
import { packageRoot } from '../src/package-root';
import { buildGoProgram } from './go-build';

export function buildReference(workDir: string): Promise<string> {
  return buildGoProgram(path.join(packageRoot(), 'native-bench', 'go', 'reference'), 'containerd-reference', workDir);
}

export function buildPullClient(workDir: string): Promise<string> {
  return buildGoProgram(path.join(packageRoot(), 'native-bench', 'go', 'pull'), 'containerd-pull', workDir);
}
