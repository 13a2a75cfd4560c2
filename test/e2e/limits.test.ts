// The configurable limits: Applies beyond [diff] max_concurrent_applies wait
// their turn (and may be cancelled while they wait), a layer that expands
// past [diff] max_uncompressed_bytes is refused, a connection gets at
// most [grpc] max_streams_per_connection calls at once, and a message over
// [grpc] max_message_bytes is refused with ResourceExhausted.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { unaryCall } from '../../src/client/connect';
import { gzip, rawTar, zstdZeroBomb } from '../support/malicious-layers';
import { applyLayer, grpcCode, startApply, startStrataServer, writeBlob, type StrataServer, type WireDescriptor } from '../support/strata-grpc';
import { file } from '../support/tar-entries';
import { suiteServer } from '../support/suite-server';

const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';
const MiB = 1024 * 1024;

async function layer(s: StrataServer, entries: Parameters<typeof rawTar>[0]): Promise<WireDescriptor> {
  const blob = gzip(await rawTar(entries));
  return { media_type: GZIP_LAYER, digest: await writeBlob(s.client.content, blob), size: blob.length };
}

describe('configured limits', { timeout: 120_000 }, () => {
  const config = '[diff]\nmax_concurrent_applies = 1\n[grpc]\nmax_streams_per_connection = 8\nmax_message_bytes = 1048576\n';
  const { server: s, workDir } = suiteServer('limits', { config });

  it('a second Apply waits for the first; one cancelled while it waits leaves the queue', async () => {
    // 200 files of 1 MiB: long enough to still run when the others arrive.
    const big = await layer(s(), Array.from({ length: 200 }, (_, i) => file(`big-${i}`, Buffer.alloc(MiB, i))));
    const small = await layer(s(), [file('small', 'small\n')]);
    const finished: string[] = [];
    const first = applyLayer(s().client.diff, big, await s().snapshots.prepare('first')).then(() => finished.push('big'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cancelled = startApply(s().client.diff, small, await s().snapshots.prepare('cancelled'));
    const second = applyLayer(s().client.diff, small, await s().snapshots.prepare('second')).then(() => finished.push('small'));
    cancelled.cancel();
    await assert.rejects(cancelled.result, (err) => grpcCode(err) === Code.CANCELLED);
    await Promise.all([first, second]);
    assert.deepEqual(finished, ['big', 'small']);
  });

  it('a 3 MB zstd layer of 100 GiB is refused at max_uncompressed_bytes; the snapshot is removable and nothing is left', async () => {
    const b = await startStrataServer(workDir(), 'bombed', 'overlayfs', '[diff]\nmax_uncompressed_bytes = 67108864\n');
    try {
      const bomb = await zstdZeroBomb('zeros', 100 * 2 ** 30);
      assert.ok(bomb.length < 4 * MiB, `the bomb is ${bomb.length} bytes`);
      const digest = await writeBlob(b.client.content, bomb);
      const mounts = await b.snapshots.prepare('bombed', '');
      const started = Date.now();
      await assert.rejects(applyLayer(b.client.diff, { media_type: ZSTD_LAYER, digest, size: bomb.length }, mounts), (err: Error) => {
        assert.equal(grpcCode(err), Code.INVALID_ARGUMENT, err.message);
        assert.match(err.message, /max_uncompressed_bytes \(67108864 bytes\)/);
        return true;
      });
      assert.ok(Date.now() - started < 30_000, 'the bomb was not stopped early');
      await b.snapshots.remove('bombed');
      // An overlay is applied through its upper dir; a temporary mount would be under tmp/.
      const scratch = path.join(b.root, 'tmp');
      assert.deepEqual(fs.existsSync(scratch) ? fs.readdirSync(scratch) : [], []);
      await unaryCall(b.client.snapshots, 'Cleanup', { snapshotter: 'strata' });
      assert.deepEqual(fs.readdirSync(path.join(b.root, 'snapshots')).filter((d) => !/^\d+$/.test(d)), []);
    } finally {
      await b.stop();
    }
  });

  it('a connection gets at most max_streams_per_connection calls at once', async () => {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(s().address) });
    session.on('error', () => undefined);
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      assert.equal(session.remoteSettings.maxConcurrentStreams, 8);
    } finally {
      session.destroy();
    }
  });

  it('a message over max_message_bytes is ResourceExhausted, and the server goes on', async () => {
    const blob = await writeBlob(s().client.content, Buffer.from('small enough\n'));
    await assert.rejects(
      unaryCall(s().client.content, 'Update', { info: { digest: blob, labels: { big: 'x'.repeat(2 * MiB) } }, update_mask: { paths: ['labels'] } }),
      (err) => grpcCode(err) === Code.RESOURCE_EXHAUSTED,
    );
    const { info } = await unaryCall<object, { info: { labels: Record<string, string> } }>(s().client.content, 'Info', { digest: blob });
    assert.deepEqual(info.labels, {});
  });
});
