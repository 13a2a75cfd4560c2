// containerd's own Go code on the same layer files: the reference program
// (go/reference) decompresses, parses or applies them, timing itself, and
// reports its peak memory. Apply writes into one upper dir per layer with the
// overlay whiteout converter (as containerd's overlayfs differ does), or every
// layer into one dir (as onto a native snapshot).
import fs from 'node:fs';
import path from 'node:path';
import { ARM } from '../arm-names';
import type { InputImage } from '../inputs/materialize';
import type { Sample } from '../model';
import { removeTree, run, syncSeconds } from '../system';

export type ReferenceMode = 'decompress' | 'parse' | 'apply';
export type ReferenceLayout = 'overlay' | 'native';

interface ReferenceOutput {
  seconds: number;
  bytes: number;
  entries: number;
  digests: string[];
  maxRssKiB: number;
}

export class ReferenceArm {
  readonly name: string;

  constructor(
    private readonly binary: string,
    private readonly scratch: string,
    readonly mode: ReferenceMode,
    readonly layout: ReferenceLayout = 'overlay',
  ) {
    this.name = mode === 'apply' ? ARM.referenceApply(layout) : ARM.referenceStage(mode);
  }

  async run(input: InputImage): Promise<Sample & { entries: number; bytes: number }> {
    const root = path.join(this.scratch, `reference-${input.id}`);
    await removeTree(root);
    await fs.promises.mkdir(this.scratch, { recursive: true });
    try {
      const args = ['-mode', this.mode, '-layout', this.layout, '-root', root, ...input.layers.map((l) => l.file)];
      const output = JSON.parse(await run(this.binary, args)) as ReferenceOutput;
      const wrong = output.digests.findIndex((digest, i) => digest !== input.layers[i].diffId);
      if (wrong >= 0) throw new Error(`${input.id} layer ${wrong}: the reference read ${output.digests[wrong]}, expected ${input.layers[wrong].diffId}`);
      const sync = this.mode === 'apply' ? syncSeconds(root) : undefined;
      return {
        seconds: output.seconds,
        phases: sync === undefined ? undefined : { sync },
        peakRssBytes: output.maxRssKiB * 1024,
        entries: output.entries,
        bytes: output.bytes,
      };
    } finally {
      await removeTree(root);
    }
  }
}
