// Conversions between wire messages and domain values shared by services.
import type { Nanos } from '../clock';
import type { Mount } from '../snapshots/types';

export interface Timestamp {
  seconds: number;
  nanos: number;
}

const NS_PER_S = 1_000_000_000n;

export function toTimestamp(ns: Nanos): Timestamp {
  return { seconds: Number(ns / NS_PER_S), nanos: Number(ns % NS_PER_S) };
}

export function fromTimestamp(t: Timestamp): Nanos {
  return BigInt(t.seconds) * NS_PER_S + BigInt(t.nanos);
}

export interface FieldMask {
  paths: string[];
}

export function maskPaths(mask: FieldMask | null | undefined): string[] {
  return mask?.paths ?? [];
}

/** containerd.types.Mount as the proto loader hands it over. */
export interface WireMount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export function toWireMount(m: Mount): WireMount {
  return { type: m.type, source: m.source, target: '', options: m.options };
}

export function fromWireMount(m: WireMount): Mount {
  return { type: m.type, source: m.source, options: m.options };
}

/** containerd's List servers answer in batches of this many. */
const LIST_BATCH = 100;

export async function sendInBatches<T, W>(items: T[], toWire: (item: T) => W, send: (batch: W[]) => Promise<void>) {
  for (let i = 0; i < items.length; i += LIST_BATCH) await send(items.slice(i, i + LIST_BATCH).map(toWire));
}
