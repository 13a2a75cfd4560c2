// Adding one entry to a tar-stream pack and waiting until it is written: the
// pack takes entries one at a time, and a body streams in with backpressure.
// Names and link names are byte strings (src/diff/byte-paths.ts).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';
import './diff/pax-records';

export type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

const NOT_ASCII = /[^\x00-\x7f]/;
/** tar-stream writes ids in six octal digits, */
const USTAR_ID_MAX = 0o777777;
/** and a time through a 32-bit integer. */
const USTAR_TIME_MAX = 2 ** 31 - 1;

/**
 * Moves into PAX records what tar-stream's ustar header would get wrong, as
 * Go's archive/tar does: a name or link name past ASCII (tar-stream would
 * write it as UTF-8; pax-records.ts writes its bytes), and an owner or a time
 * too large for the header's fields.
 */
export function ustarSafe<T extends EntryHeader>(header: T): T {
  const pax: Record<string, string> = {};
  for (const id of ['uid', 'gid'] as const) {
    const value = header[id];
    if (value !== undefined && value > USTAR_ID_MAX) pax[id] = String(value);
  }
  const seconds = header.mtime === undefined ? 0 : Math.floor(header.mtime.getTime() / 1000);
  if (seconds < 0 || seconds > USTAR_TIME_MAX) pax.mtime = String(seconds);
  const rawNames = NOT_ASCII.test(header.name + (header.linkname ?? ''));
  if (!rawNames && Object.keys(pax).length === 0) return header;
  // Any PAX record set makes tar-stream write the names as PAX records too.
  return { ...header, pax: { ...(header.pax as Record<string, string> | undefined), ...pax } };
}

export function addEntry(pack: tar.Pack, entryHeader: EntryHeader, body?: Readable): Promise<void> {
  const header = ustarSafe(entryHeader);
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
