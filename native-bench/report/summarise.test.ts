import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARM } from '../arm-names';
import type { Measurement } from '../model';
import { summarise } from './summarise';

/** One containerd sample of `seconds` for each arm, on one input. */
function measured(seconds: Record<string, number>): Measurement[] {
  return Object.entries(seconds).map(([arm, s]) => ({ group: 'containerd', arm, subject: 'whiteouts', compression: 'gzip', samples: [{ seconds: s }] }));
}

const kinds = (snapshotters: string[], raw: Measurement[]) => summarise(raw, [], [], snapshotters).ratios.map((r) => `${r.kind} = ${r.ratio}`);

test('each snapshotter is over overlayfs when it runs, over the first named otherwise, and strata over its registry pull for the mirror', () => {
  const pulls = measured({ [ARM.ctrPull('btrfs')]: 6, [ARM.ctrPull('overlayfs')]: 3, [ARM.ctrPull('strata')]: 1.5, [ARM.ctrPullMirror]: 0.75 });
  assert.deepEqual(kinds(['btrfs', 'overlayfs', 'strata'], pulls), [
    'ctr pull: btrfs / overlayfs = 2',
    'ctr pull: strata / overlayfs = 0.5',
    'ctr pull into strata: from a peer mirror / from the registry = 0.5',
  ]);
  assert.deepEqual(kinds(['strata', 'btrfs'], pulls), ['ctr pull: btrfs / strata = 4', 'ctr pull into strata: from a peer mirror / from the registry = 0.5']);
});

test("a removal's ratio is over the reference snapshotter's removal, as every other containerd arm's", () => {
  const removals = measured({ [ARM.removal('overlayfs')]: 2, [ARM.removal('native')]: 1 });
  assert.deepEqual(kinds(['native', 'overlayfs'], removals), ['remove and collect: native / overlayfs = 0.5']);
});

test("import's unpack share is the import's time less the --no-unpack import's", () => {
  const imports = measured({ [ARM.ctrImport('native', true)]: 5, [ARM.ctrImport('native', false)]: 1, [ARM.ctrImport('overlayfs', true)]: 3, [ARM.ctrImport('overlayfs', false)]: 1 });
  assert.deepEqual(kinds(['overlayfs', 'native'], imports), ['ctr import: native / overlayfs = 1.6666666666666667', 'ctr import, unpack share: native / overlayfs = 2']);
});
