import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tar from 'tar-stream';
import { decodePaxRecords, encodePaxRecords, xattrRecord, xattrValue } from './pax-records';

const CAPABILITY = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80]);

// A UTF-8 name and one that is not UTF-8 at all, as the bytes a tar holds.
const NAMES = [Buffer.from('dïr/名前'), Buffer.from([0x64, 0x2f, 0xff, 0xfe, 0x0a, 0x80])];

test('PAX records keep binary xattr values, and names byte for byte', () => {
  for (const name of NAMES) {
    const encoded = encodePaxRecords({ path: name.toString('latin1'), linkpath: name.toString('latin1'), comment: 'ü' });
    assert.ok(encoded.includes(Buffer.concat([Buffer.from(' path='), name, Buffer.from('\n')])));
    const decoded = decodePaxRecords(encoded);
    assert.deepEqual(Buffer.from(decoded.path, 'latin1'), name);
    assert.deepEqual(Buffer.from(decoded.linkpath, 'latin1'), name);
    assert.equal(decoded.comment, 'ü');
  }
  const encoded = encodePaxRecords({ path: 'a', 'SCHILY.xattr.security.capability': xattrRecord(CAPABILITY) });
  const decoded = decodePaxRecords(encoded);
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
