// tar-stream decodes PAX records as UTF-8 text, which mangles binary xattr
// values such as security.capability. Go's archive/tar, and so containerd,
// keeps record values as raw bytes. This replaces tar-stream's decoder (its
// extractor calls it through the shared headers module) with one that keeps
// SCHILY.xattr.* values byte for byte, one latin1 character per byte.
import path from 'node:path';

export const XATTR_PREFIX = 'SCHILY.xattr.';

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
    records[key] = record.toString(key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8', equals + 1);
    at += length;
  }
  return records;
}

/** The raw bytes of an xattr value decoded by decodePaxRecords. */
export function xattrValue(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

const tarStreamHeaders = require(path.join(path.dirname(require.resolve('tar-stream')), 'headers.js')) as {
  decodePax: (buf: Buffer) => Record<string, string>;
};
tarStreamHeaders.decodePax = decodePaxRecords;
