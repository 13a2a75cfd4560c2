// Typed access to the native addon (src/native/syscalls.c), built by
// node-gyp into build/Release when the package is installed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root';

/** path, data, mode, uid, gid, atime, mtime */
export type WrittenFile = [PathArg, Buffer, number, number, number, number, number];

/** As in Node's fs: a string is UTF-8 text, a Buffer raw bytes (a layer's names need not be UTF-8). */
export type PathArg = string | Buffer;

export interface Syscalls {
  mknod(path: PathArg, mode: number, major: number, minor: number): void;
  lsetxattr(path: PathArg, name: string, value: Buffer): void;
  /** undefined when the attribute is not set. */
  lgetxattr(path: PathArg, name: string): Buffer | undefined;
  llistxattr(path: PathArg): string[];
  syncfs(path: string): void;
  /** Takes an exclusive flock on path, held until the process exits; returns the fd. EAGAIN when taken. */
  lockExclusive(path: string): number;
  /** The symlink's target; undefined when path is not a symlink (or is unreadable). */
  readlinkIfSymlink(path: string): string | undefined;
  /** The same, in raw bytes. */
  readlinkIfSymlink(path: Buffer): Buffer | undefined;
  /**
   * Reads into buffer[offset, offset+length) from position, taking only what
   * the page cache holds, without blocking: the bytes read (0 at the end of
   * the file), or -1 when none are cached. Throws on a real error.
   */
  preadCached(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Makes glibc's malloc return free memory to the system once `bytes` of it gather at the top of a heap. */
  trimMallocAbove(bytes: number): void;
  /** Sends one datagram to a unix socket: sd_notify's protocol; "@name" is in the abstract namespace. */
  notifySocket(address: string, message: string): void;
  /**
   * rm -r --one-file-system of path in one thread-pool job; a path not there
   * is no error. Once stop[0] is set, the walk ends part way with ECANCELED.
   */
  removeTree(path: PathArg, stop?: Int32Array): Promise<void>;
  /** Allocated bytes and inodes under root, hardlinks once (continuity's fs.DiskUsage), in one thread-pool job. */
  diskUsage(root: string): Promise<{ size: number; inodes: number }>;
  /**
   * Creates each path (O_EXCL) holding its data, then sets owner, mode and
   * times (seconds), in order, in one thread-pool job. Resolves with each
   * file's fs-style error, or undefined.
   */
  writeFiles(files: WrittenFile[]): Promise<(NodeJS.ErrnoException | undefined)[]>;
}

function findAddon(): string {
  const addon = path.join(packageRoot(), 'build/Release/strata_syscalls.node');
  if (!existsSync(addon)) throw new Error('the strata_syscalls addon is not built: run npm ci (or npx node-gyp rebuild)');
  return addon;
}

export const syscalls: Syscalls = require(findAddon());
