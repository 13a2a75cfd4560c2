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

/** Every regular file in a tar archive, by normalised name, with where its data starts. */
async function indexTar(archive: string): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const file = await fs.promises.open(archive, 'r');
  try {
    let offset = 0;
    let longName: string | undefined;
    for (;;) {
      const block = await readAt(file, offset, BLOCK);
      if (block.length < BLOCK || block.every((byte) => byte === 0)) break;
      let header;
      try {
        header = tarHeaders.decode(block, 'utf-8', false);
      } catch (err) {
        throw invalidArgument(`${archive} is not a tar archive: ${(err as Error).message}`);
      }
      if (!header) break;
      const data = offset + BLOCK;
      if (header.type === 'pax-header') {
        longName = tarHeaders.decodePax(await readAt(file, data, header.size)).path ?? longName;
      } else if (header.type === 'gnu-long-path') {
        longName = tarHeaders.decodeLongPath(await readAt(file, data, header.size), 'utf-8');
      } else {
        const name = path.posix.normalize(longName ?? header.name).replace(/^(\.\/|\/)+/, '');
        if (header.type === 'file' || header.type === 'contiguous-file') members.set(name, { offset: data, size: header.size });
        longName = undefined;
      }
      offset = data + Math.ceil(header.size / BLOCK) * BLOCK;
    }
  } finally {
    await file.close();
  }
  return members;
}

export async function archiveFiles(archive: string): Promise<LayoutFiles> {
  const members = await indexTar(archive);
  return {
    name: archive,
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
