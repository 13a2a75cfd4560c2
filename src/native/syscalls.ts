// Typed access to the native addon (src/native/syscalls.c), built by
// node-gyp into build/Release when the package is installed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root';

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
  const addon = path.join(packageRoot(), 'build/Release/strata_syscalls.node');
  if (!existsSync(addon)) throw new Error('the strata_syscalls addon is not built: run npm ci (or npx node-gyp rebuild)');
  return addon;
}

export const syscalls: Syscalls = require(findAddon());
