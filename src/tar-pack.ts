// Adding one entry to a tar-stream pack and waiting until it is written: the
// pack takes entries one at a time, and a body streams in with backpressure.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';

export type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

export function addEntry(pack: tar.Pack, header: EntryHeader, body?: Readable): Promise<void> {
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
