// The files of an OCI layout, wherever they are kept: a directory, or a tar
// archive of one (`ctr images export`, `skopeo copy ... oci-archive:`). An
// archive is indexed once, header by header, so that any blob can then be
// streamed from its offset without unpacking the archive.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../errdefs';

export interface LayoutFiles {
  readonly name: string;
  /** Undefined when the file is not there. */
  size(file: string): Promise<number | undefined>;
  open(file: string): Promise<Readable>;
  close(): Promise<void>;
}

/** A whole (small) file of a layout: index.json, a manifest. */
export async function readLayoutFile(files: LayoutFiles, file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await files.open(file)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function directoryFiles(dir: string): LayoutFiles {
  const resolve = (file: string) => path.join(dir, path.posix.normalize(`/${file}`));
  return {
    name: dir,
    size: (file) => fs.promises.stat(resolve(file)).then((st) => (st.isFile() ? st.size : undefined), () => undefined),
    async open(file) {
      const handle = await fs.promises.open(resolve(file), 'r').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? notFound(`${dir} has no ${file}`) : err;
      });
      return handle.createReadStream();
    },
    close: async () => undefined,
  };
}

interface Member {
  offset: number;
  size: number;
}

const BLOCK = 512;

const tarHeaders = require(path.join(path.dirname(require.resolve('tar-stream')), 'headers.js')) as {
  decode(buf: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): { name: string; size: number; type: string } | null;
  decodePax(buf: Buffer): Record<string, string>;
  decodeLongPath(buf: Buffer, encoding: string): string;
};

async function readAt(file: fs.promises.FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, offset);
  return buffer.subarray(0, bytesRead);
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** What a file that does not start as a tar is: a compressed archive is a common slip (`docker save | gzip`). */
function notTar(archive: string, start: Buffer): Error {
  if (start.subarray(0, 2).equals(GZIP_MAGIC)) return invalidArgument(`${archive} is gzip-compressed: decompress it (gunzip) and inspect the tar`);
  if (start.subarray(0, 4).equals(ZSTD_MAGIC)) return invalidArgument(`${archive} is zstd-compressed: decompress it (zstd -d) and inspect the tar`);
  return invalidArgument(`${archive} is not an image archive: not a tar file`);
}

interface TarIndex {
  /** Every regular file, by normalised name, with where its data starts. */
  members: Map<string, Member>;
  /** tar's end-of-archive blocks were there; without them the archive may have been cut at a member's end. */
  ended: boolean;
}

/**
 * Reads the archive header by header. An archive cut short (a download or a
 * copy that stopped) ends inside a header, or a member's data or padding:
 * that is said here, or the files it lost would be reported as missing from
 * the image. Only a cut exactly between members goes unseen: `ended` says so.
 */
async function indexTar(archive: string): Promise<TarIndex> {
  const members = new Map<string, Member>();
  const file = await fs.promises.open(archive, 'r');
  try {
    const { size } = await file.stat();
    if (size === 0) throw invalidArgument(`${archive} is empty (0 bytes), not an image archive`);
    let offset = 0;
    let longName: string | undefined;
    let last = '';
    const after = () => (last ? ` (after ${last})` : '');
    const truncated = (where: string) => invalidArgument(`${archive} is truncated: the tar ends early, ${where}`);
    while (offset < size) {
      const block = await readAt(file, offset, BLOCK);
      if (block.every((byte) => byte === 0)) return { members, ended: true };
      if (block.length < BLOCK) {
        if (offset === 0) throw notTar(archive, block);
        throw truncated(`in a header${after()}`);
      }
      let header;
      try {
        header = tarHeaders.decode(block, 'utf-8', false);
      } catch {
        throw offset === 0 ? notTar(archive, block) : invalidArgument(`${archive} is corrupt: no tar header at byte ${offset}${after()}`);
      }
      if (!header) return { members, ended: true };
      const data = offset + BLOCK;
      const next = data + Math.ceil(header.size / BLOCK) * BLOCK;
      if (next > size) {
        const name = longName ?? header.name;
        throw truncated(data + header.size > size ? `inside ${name} (${size - data} of its ${header.size} bytes)` : `in the padding after ${name}`);
      }
      if (header.type === 'pax-header') {
        longName = tarHeaders.decodePax(await readAt(file, data, header.size)).path ?? longName;
      } else if (header.type === 'gnu-long-path') {
        longName = tarHeaders.decodeLongPath(await readAt(file, data, header.size), 'utf-8');
      } else {
        const name = path.posix.normalize(longName ?? header.name).replace(/^(\.\/|\/)+/, '');
        if (header.type === 'file' || header.type === 'contiguous-file') members.set(name, { offset: data, size: header.size });
        longName = undefined;
        last = name;
      }
      offset = next;
    }
    return { members, ended: false };
  } finally {
    await file.close();
  }
}

export interface ArchiveFiles extends LayoutFiles {
  /** tar's end-of-archive blocks were there: a file the archive lacks was never in it. */
  readonly ended: boolean;
}

export async function archiveFiles(archive: string): Promise<ArchiveFiles> {
  const { members, ended } = await indexTar(archive);
  return {
    name: archive,
    ended,
    size: async (file) => members.get(path.posix.normalize(file))?.size,
    async open(file) {
      const member = members.get(path.posix.normalize(file));
      if (!member) throw notFound(`${archive} has no ${file}`);
      // createReadStream's inclusive end cannot express an empty range.
      if (member.size === 0) return Readable.from([]);
      return fs.createReadStream(archive, { start: member.offset, end: member.offset + member.size - 1 });
    },
    close: async () => undefined,
  };
}
