// Compare's layer writer: tree changes → tar → compression → a sink (the
// content store's ingest), as one pipeline that moves only as fast as the
// sink takes bytes. A failure on either side (a file that changes size while
// it is read, a full disk, a cancelled call) ends both and is reported once.
import { createHash } from 'node:crypto';
import * as tar from 'tar-stream';
import { runPipeline, tap, type Stage } from '../stream-stages';
import { ChangeWriter } from './change-writer';
import type { Change } from './tree-changes';

export interface WrittenLayer {
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

export async function writeLayer(
  changes: AsyncIterable<Change>,
  upperRoot: string,
  compression: Stage[],
  sink: (chunk: Buffer) => Promise<void>,
  signal?: AbortSignal,
  /** SOURCE_DATE_EPOCH, in nanoseconds: later times are written as this one. */
  mtimeBound?: bigint,
): Promise<WrittenLayer> {
  const pack = tar.pack();
  const diffId = createHash('sha256');
  const writing = runPipeline(
    pack as unknown as AsyncIterable<Buffer>,
    [tap((chunk) => diffId.update(chunk)), ...compression],
    async (layer) => {
      for await (const chunk of layer) await sink(chunk);
    },
    signal,
  );
  const producing = (async () => {
    const writer = new ChangeWriter(pack, upperRoot, mtimeBound);
    for await (const change of changes) {
      signal?.throwIfAborted();
      await writer.write(change);
    }
    pack.finalize();
  })();
  // The first failure destroys the other side too; both settle before returning, so nothing stays open.
  producing.catch((err: Error) => pack.destroy(err));
  writing.catch((err: Error) => pack.destroy(err));
  const [produced, written] = await Promise.allSettled([producing, writing]);
  if (written.status === 'rejected' && !(produced.status === 'rejected' && isPrematureClose(written.reason))) {
    throw written.reason;
  }
  if (produced.status === 'rejected') throw produced.reason;
  return { diffId: `sha256:${diffId.digest('hex')}` };
}

function isPrematureClose(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
