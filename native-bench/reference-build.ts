// The Go reference program (native-bench/go/reference): containerd's own
// layer applier, for the bench's side-by-side figures.
import path from 'node:path';
import { packageRoot } from '../src/package-root';
import { buildGoProgram } from './go-build';

export function buildReference(workDir: string): Promise<string> {
  return buildGoProgram(path.join(packageRoot(), 'native-bench', 'go', 'reference'), 'containerd-reference', workDir);
}
