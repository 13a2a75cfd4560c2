// Typed access to the native addon (src/native/syscalls.c), built by
// node-gyp into build/Release when the package is installed.
import path from 'node:path';

export interface Syscalls {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** undefined when the attribute is not set. */
  lgetxattr(path: string, name: string): Buffer | undefined;
  llistxattr(path: string): string[];
  syncfs(path: string): void;
  /** Takes an exclusive flock on path, held until the process exits; returns the fd. EAGAIN when taken. */
  lockExclusive(path: string): number;
}

function findAddon(): string {
  // dist/native/ in the package, build/src/native/ in the test build.
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'build/Release/strata_syscalls.node');
    try {
      require.resolve(candidate);
      return candidate;
    } catch {
      // try the next location
    }
  }
  throw new Error('the strata_syscalls addon is not built: run npm ci (or npx node-gyp rebuild)');
}

export const syscalls: Syscalls = require(findAddon());
