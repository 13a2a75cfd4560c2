// strata's Admin service: the wiring of `strata gc` to the collector.
import type * as grpc from '@grpc/grpc-js';
import { failedPrecondition } from '../errdefs';
import type { CollectionReport } from '../gc/collector';
import { unary } from './handlers';

const method = (name: string) => `/strata.admin.v1.Admin/${name}`;

export type Collect = (options: { dryRun: boolean }) => Promise<CollectionReport>;

/** `collect` is undefined in gc.mode = containerd, where containerd alone decides what goes. */
export function adminHandlers(collect: Collect | undefined): grpc.UntypedServiceImplementation {
  return {
    CollectGarbage: unary(method('CollectGarbage'), async (req: { dry_run: boolean }) => {
      if (!collect) {
        throw failedPrecondition('gc.mode is containerd: containerd decides what strata deletes (serve with --gc-mode labels to collect by labels)');
      }
      const report = await collect({ dryRun: req.dry_run });
      return {
        dry_run: report.dryRun,
        removed: [
          ...report.snapshots.map((s) => ({ kind: 'snapshot', id: s.key, bytes: s.bytes })),
          ...report.blobs.map((b) => ({ kind: 'blob', id: b.digest, bytes: b.bytes })),
          ...report.ingests.map((i) => ({ kind: 'ingest', id: i.ref, bytes: i.bytes })),
        ],
      };
    }),
  };
}
