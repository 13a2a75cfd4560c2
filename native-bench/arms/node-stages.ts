// strata's own stages, without the server or the disk: decompression alone
// (zlib, zstd-napi), and decompression plus tar parsing. Their times are the
// decompress and parse phases of strata's apply.
import fs from 'node:fs';
import { decompression } from '../../src/diff/compression';
import { forEachTarEntry } from '../../src/diff/tar-entries';
import { runPipeline } from '../../src/stream-stages';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { timed } from '../system';
import { READ_CHUNK } from '../../src/content/store';

async function drain(input: AsyncIterable<Buffer>): Promise<number> {
  let bytes = 0;
  for await (const chunk of input) bytes += chunk.length;
  return bytes;
}

export class NodeStagesArm {
  readonly name: string;

  constructor(readonly mode: 'decompress' | 'parse') {
    this.name = ARM.strataStage(mode);
  }

  async run(input: InputImage): Promise<Sample & { entries: number }> {
    let entries = 0;
    const [, seconds] = await timed(async () => {
      for (const layer of input.layers) {
        // Read as the content store reads blobs for Apply.
        const blob = fs.createReadStream(layer.file, { highWaterMark: READ_CHUNK });
        if (this.mode === 'decompress') {
          await runPipeline(blob, decompression(layer.compression), drain);
        } else {
          await runPipeline(blob, decompression(layer.compression), (tar) =>
            forEachTarEntry(tar, async (_header, body) => {
              entries++;
              await drain(body);
            }),
          );
        }
      }
    });
    return { seconds, entries };
  }
}
