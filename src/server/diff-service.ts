// gRPC wiring for containerd.services.diff.v1.Diff.
import type * as grpc from '@grpc/grpc-js';
import type { Metrics } from '../metrics/metrics';
import type { LayerApplier } from '../diff/layer-applier';
import type { LayerDiffer } from '../diff/layer-differ';
import type { Descriptor } from '../diff/types';
import { invalidArgument } from '../errdefs';
import { fromTimestamp, fromWireMount, type Timestamp, type WireMount } from './convert';
import { cancellableUnary } from './handlers';

interface WireDescriptor {
  media_type: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

function fromWireDescriptor(d: WireDescriptor | null): Descriptor {
  if (!d || d.digest === '') throw invalidArgument('a descriptor with a digest is required');
  return { mediaType: d.media_type, digest: d.digest, size: d.size, annotations: d.annotations };
}

function toWireDescriptor(d: Descriptor): WireDescriptor {
  return { media_type: d.mediaType, digest: d.digest, size: d.size, annotations: d.annotations };
}

export function diffHandlers(applier: LayerApplier, differ: LayerDiffer, metrics: Metrics | undefined): grpc.UntypedServiceImplementation {
  const method = (name: string) => `/containerd.services.diff.v1.Diff/${name}`;
  return {
    Apply: cancellableUnary(
      method('Apply'),
      async (req: { diff: WireDescriptor | null; mounts: WireMount[]; sync_fs: boolean }, signal) => {
        metrics?.appliesInFlight.inc();
        try {
          const applied = await applier.apply(fromWireDescriptor(req.diff), req.mounts.map(fromWireMount), req.sync_fs, signal);
          metrics?.appliedBytes.inc(applied.size);
          return { applied: toWireDescriptor(applied) };
        } finally {
          metrics?.appliesInFlight.dec();
        }
      },
    ),
    Diff: cancellableUnary(
      method('Diff'),
      async (
        req: { left: WireMount[]; right: WireMount[]; media_type: string; ref: string; labels: Record<string, string>; source_date_epoch: Timestamp | null },
        signal,
      ) => ({
        diff: toWireDescriptor(
          await differ.compare(
            req.left.map(fromWireMount),
            req.right.map(fromWireMount),
            {
              mediaType: req.media_type,
              ref: req.ref,
              labels: req.labels,
              ...(req.source_date_epoch ? { sourceDateEpoch: fromTimestamp(req.source_date_epoch) } : {}),
            },
            signal,
          ),
        ),
      }),
    ),
  };
}
