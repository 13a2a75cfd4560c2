// gRPC wiring for containerd.services.snapshots.v1.Snapshots: decode, call
// the snapshotter, encode. The request's `snapshotter` field is whatever name
// containerd gave this proxy plugin, so it is accepted and ignored.
import type * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../errdefs';
import type { Info, Kind, Labels, Mount, Snapshotter } from '../snapshots/types';
import { maskPaths, sendInBatches, toTimestamp, toWireMount, type FieldMask, type Timestamp, type WireMount } from './convert';
import { serverStream, unary } from './handlers';

type WireKind = 'UNKNOWN' | 'VIEW' | 'ACTIVE' | 'COMMITTED';

interface WireInfo {
  name: string;
  parent: string;
  kind: WireKind;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  labels: Labels;
}

interface KeyRequest {
  key: string;
}

interface CreateRequest extends KeyRequest {
  parent: string;
  labels: Labels;
}

const TO_WIRE_KIND: Record<Kind, WireKind> = { view: 'VIEW', active: 'ACTIVE', committed: 'COMMITTED' };

function toWireInfo(info: Info): WireInfo {
  return {
    name: info.name,
    parent: info.parent,
    kind: TO_WIRE_KIND[info.kind],
    created_at: toTimestamp(info.created),
    updated_at: toTimestamp(info.updated),
    labels: info.labels,
  };
}

function toWireMounts(mounts: Mount[]): { mounts: WireMount[] } {
  return { mounts: mounts.map(toWireMount) };
}

export function snapshotsHandlers(sn: Snapshotter): grpc.UntypedServiceImplementation {
  const method = (name: string) => `/containerd.services.snapshots.v1.Snapshots/${name}`;
  return {
    Prepare: unary(method('Prepare'), async (req: CreateRequest) =>
      toWireMounts(await sn.prepare(req.key, req.parent, req.labels)),
    ),
    View: unary(method('View'), async (req: CreateRequest) =>
      toWireMounts(await sn.view(req.key, req.parent, req.labels)),
    ),
    Mounts: unary(method('Mounts'), async (req: KeyRequest) => toWireMounts(await sn.mounts(req.key))),
    Commit: unary(method('Commit'), async (req: { name: string; key: string; labels: Labels; parent: string }) => {
      await sn.commit(req.name, req.key, req.labels, req.parent);
      return {};
    }),
    Remove: unary(method('Remove'), async (req: KeyRequest) => {
      await sn.remove(req.key);
      return {};
    }),
    Stat: unary(method('Stat'), async (req: KeyRequest) => ({ info: toWireInfo(await sn.stat(req.key)) })),
    Update: unary(method('Update'), async (req: { info: WireInfo | null; update_mask: FieldMask | null }) => {
      if (!req.info) throw invalidArgument('update: info is required');
      // Only labels are mutable; naming any other field in the mask is InvalidArgument.
      return { info: toWireInfo(await sn.update(req.info.name, req.info.labels, maskPaths(req.update_mask))) };
    }),
    List: serverStream(method('List'), async (req: { filters: string[] }, send) => {
      await sendInBatches(await sn.list(req.filters), toWireInfo, (info) => send({ info }));
    }),
    Usage: unary(method('Usage'), async (req: KeyRequest) => sn.usage(req.key)),
    Cleanup: unary(method('Cleanup'), async () => {
      await sn.cleanup();
      return {};
    }),
  };
}
