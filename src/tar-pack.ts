// Adding one entry to a tar-stream pack and waiting until it is written: the
// pack takes entries one at a time, and a body streams in with backpressure.
// Names and link names are byte strings (src/diff/byte-paths.ts).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';
import './diff/pax-records';

export type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * tar-stream writes a ustar name or link name as UTF-8, so one with bytes
 * past ASCII goes in a PAX record instead, which pax-records.ts writes as
 * the bytes themselves.
 */
export function withByteNames<T extends EntryHeader>(header: T): T {
  if (header.pax || !NOT_ASCII.test(header.name + (header.linkname ?? ''))) return header;
  return { ...header, pax: {} };
}

export function addEntry(pack: tar.Pack, entryHeader: EntryHeader, body?: Readable): Promise<void> {
  const header = withByteNames(entryHeader);
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (!body) {
      pack.entry(header, Buffer.alloc(0), done);
      return;
    }
    // A failure is reported once the body is closed: a file stream left to
    // the collector would keep its file open after the layer has failed.
    const fail = (err: Error) => {
      if (body.closed) reject(err);
      else {
        body.once('close', () => reject(err));
        body.destroy();
      }
    };
    let entry: ReturnType<tar.Pack['entry']>;
    try {
      // It throws when the pack was destroyed (a failed sink, a cancelled call) meanwhile.
      entry = pack.entry(header, (err) => (err ? fail(err) : resolve()));
    } catch (err) {
      fail(err as Error);
      return;
    }
    pipeline(body, entry).catch(fail);
  });
}
