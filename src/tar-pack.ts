// Adding one entry to a tar-stream pack and waiting until it is written: the
// pack takes entries one at a time, and a body streams in with backpressure.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';

export type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

export function addEntry(pack: tar.Pack, header: EntryHeader, body?: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pipeline(body, pack.entry(header, done)).catch(reject);
    else pack.entry(header, Buffer.alloc(0), done);
  });
}
