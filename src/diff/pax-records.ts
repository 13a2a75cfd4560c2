// tar-stream treats PAX records as UTF-8 text, which mangles binary xattr
// values such as security.capability. Go's archive/tar, and so containerd,
// keeps record values as raw bytes. This replaces tar-stream's PAX decoder
// and encoder (its extractor and packer call them through the shared headers
// module) with ones that keep SCHILY.xattr.* values, and the path and
// linkpath (names need not be UTF-8), byte for byte, carried as one latin1
// character per byte.
import path from 'node:path';

export const XATTR_PREFIX = 'SCHILY.xattr.';

/** Records whose values are bytes, not text. */
function isBinary(key: string): boolean {
  return key.startsWith(XATTR_PREFIX) || key === 'path' || key === 'linkpath';
}

export function decodePaxRecords(buf: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(buf.toString('latin1', at, space), 10);
    if (!(length > 0) || at + length > buf.length) break;
    const record = buf.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals < 0) break;
    const key = record.toString('utf8', 0, equals);
    records[key] = record.toString(isBinary(key) ? 'latin1' : 'utf8', equals + 1);
    at += length;
  }
  return records;
}

export function encodePaxRecords(records: Record<string, string | undefined>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    if (value === undefined) continue;
    const body = Buffer.concat([
      Buffer.from(` ${key}=`, 'utf8'),
      Buffer.from(value, isBinary(key) ? 'latin1' : 'utf8'),
      Buffer.from('\n'),
    ]);
    // The length prefix counts its own digits.
    let length = body.length + 1;
    while (length !== body.length + String(length).length) length = body.length + String(length).length;
    parts.push(Buffer.from(String(length), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

/** The raw bytes of an xattr value decoded by decodePaxRecords. */
export function xattrValue(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

/** An xattr value as encodePaxRecords expects it. */
export function xattrRecord(value: Buffer): string {
  return value.toString('latin1');
}

const tarStreamHeaders = require(path.join(path.dirname(require.resolve('tar-stream')), 'headers.js')) as {
  decodePax: (buf: Buffer) => Record<string, string>;
  encodePax: (opts: { name?: string; linkname?: string; pax?: Record<string, string> }) => Buffer;
};
tarStreamHeaders.decodePax = decodePaxRecords;
// tar-stream's encoder also folds the entry's long name and link name in.
tarStreamHeaders.encodePax = (opts) =>
  encodePaxRecords({ path: opts.name, linkpath: opts.linkname, ...(opts.pax ?? {}) });
