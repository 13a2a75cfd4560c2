// An archive's tar index says what the file is when it is no whole tar: cut
// inside a header, a member's data or its padding, empty, compressed, not a
// tar, or corrupt part way; a cut between members leaves `ended` false.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { isKind } from '../errdefs';
import { addEntry } from '../tar-pack';
import { archiveFiles } from './layout-files';

/** a (1000 bytes) at 0, data 512-1512, padding to 1536; b (10 bytes) at 1536, data 2048-2058, padding to 2560; then the end blocks. */
async function writeTar(file: string): Promise<Buffer> {
  const pack = tar.pack();
  const writing = pipeline(pack, fs.createWriteStream(file));
  await addEntry(pack, { name: 'a', size: 1000, mode: 0o644 }, Readable.from([Buffer.alloc(1000, 1)]));
  await addEntry(pack, { name: 'b', size: 10, mode: 0o644 }, Readable.from([Buffer.alloc(10, 2)]));
  pack.finalize();
  await writing;
  return fs.promises.readFile(file);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('an archive cut short, empty, compressed, not a tar, or corrupt is named as such', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-layout-files-'));
  try {
    const whole = await writeTar(path.join(dir, 'whole.tar'));
    const files = await archiveFiles(path.join(dir, 'whole.tar'));
    assert.equal(files.ended, true);
    assert.deepEqual((await readAll(await files.open('b'))).toString('hex'), '02'.repeat(10));

    const fails = async (name: string, bytes: Buffer, message: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      await assert.rejects(archiveFiles(file), (err: Error) => isKind(err, 'InvalidArgument') && err.message === `${file} ${message}`);
    };
    await fails('cut-data.tar', whole.subarray(0, 1000), 'is truncated: the tar ends early, inside a (488 of its 1000 bytes)');
    await fails('cut-padding.tar', whole.subarray(0, 1520), 'is truncated: the tar ends early, in the padding after a');
    await fails('cut-header.tar', whole.subarray(0, 1700), 'is truncated: the tar ends early, in a header (after a)');
    await fails('empty.tar', Buffer.alloc(0), 'is empty (0 bytes), not an image archive');
    await fails('notes.txt', Buffer.from('not an image\n'.repeat(100)), 'is not an image archive: not a tar file');
    await fails('short.txt', Buffer.from('hello\n'), 'is not an image archive: not a tar file');
    await fails('image.tar.gz', zlib.gzipSync(whole), 'is gzip-compressed: decompress it (gunzip) and inspect the tar');
    const corrupt = Buffer.from(whole);
    corrupt[1536] ^= 0x20;
    await fails('corrupt.tar', corrupt, 'is corrupt: no tar header at byte 1536 (after a)');

    // Cut between members, the tar reads as far as it goes, without its end blocks.
    for (const [end, sizes] of [[1536, [1000, undefined]], [2560, [1000, 10]]] as const) {
      fs.writeFileSync(path.join(dir, 'cut.tar'), whole.subarray(0, end));
      const cut = await archiveFiles(path.join(dir, 'cut.tar'));
      assert.equal(cut.ended, false, `cut at ${end}`);
      assert.deepEqual([await cut.size('a'), await cut.size('b')], sizes, `cut at ${end}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
