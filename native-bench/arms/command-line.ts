// The physical limit, and decompression alone, with the standard tools: GNU
// tar fed by `gzip -d` or `zstd -d` through a kernel pipe, into an empty
// directory on the same filesystem; and the decompressors to /dev/null.
import fs from 'node:fs';
import path from 'node:path';
import type { Compression } from '../../src/diff/compression';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { removeTree, run, syncSeconds, timed } from '../system';

const DECOMPRESS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gzip -dc', zstd: 'zstd -dcq' };

function decompressCommand(compression: Compression): string {
  return compression === 'none' ? 'cat' : DECOMPRESS[compression];
}

/** Runs a shell pipeline with the file and directory as positional parameters, never interpolated. */
function sh(script: string, ...args: string[]): Promise<string> {
  return run('sh', ['-c', script, 'sh', ...args]);
}

export class TarLimitArm {
  readonly name = ARM.limit;

  constructor(private readonly scratch: string) {}

  async run(input: InputImage): Promise<Sample> {
    const root = path.join(this.scratch, `limit-${input.id}`);
    await removeTree(root);
    await fs.promises.mkdir(root, { recursive: true });
    try {
      const [, seconds] = await timed(async () => {
        for (const layer of input.layers) {
          if (layer.compression === 'none') await run('tar', ['-xf', layer.file, '-C', root]);
          else await sh(`${decompressCommand(layer.compression)} "$1" | tar -x -C "$2"`, layer.file, root);
        }
      });
      return { seconds, phases: { sync: syncSeconds(root) } };
    } finally {
      await removeTree(root);
    }
  }
}

export class CliDecompressArm {
  readonly name = ARM.cliDecompress;

  async run(input: InputImage): Promise<Sample> {
    const [, seconds] = await timed(async () => {
      for (const layer of input.layers) await sh(`${decompressCommand(layer.compression)} "$1" > /dev/null`, layer.file);
    });
    return { seconds };
  }
}
