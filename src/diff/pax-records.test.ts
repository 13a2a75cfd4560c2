import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tar from 'tar-stream';
import { decodePaxRecords, encodePaxRecords, xattrRecord, xattrValue } from './pax-records';

const CAPABILITY = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80]);

test('PAX records keep binary xattr values and UTF-8 names', () => {
  const encoded = encodePaxRecords({ path: 'dïr/名前', 'SCHILY.xattr.security.capability': xattrRecord(CAPABILITY) });
  const decoded = decodePaxRecords(encoded);
  assert.equal(decoded.path, 'dïr/名前');
  assert.deepEqual(xattrValue(decoded['SCHILY.xattr.security.capability']), CAPABILITY);
  // Each record's length prefix counts the whole record, itself included.
  const first = encoded.toString('latin1').split(' ')[0];
  assert.equal(encoded.indexOf(0x0a) + 1, Number(first));
});

test('tar-stream round-trips a binary xattr through pack and extract', async () => {
  const pack = tar.pack();
  pack.entry({ name: 'ping', pax: { 'SCHILY.xattr.security.capability': xattrRecord(CAPABILITY) } }, 'x');
  pack.finalize();
  const extract = tar.extract();
  pack.pipe(extract);
  for await (const entry of extract) {
    const pax = entry.header.pax as Record<string, string>;
    assert.deepEqual(xattrValue(pax['SCHILY.xattr.security.capability']), CAPABILITY);
    entry.resume();
  }
});
