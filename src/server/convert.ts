// Conversions between wire messages and domain values shared by services.
import type { Nanos } from '../clock';

export interface Timestamp {
  seconds: number;
  nanos: number;
}

const NS_PER_S = 1_000_000_000n;

export function toTimestamp(ns: Nanos): Timestamp {
  return { seconds: Number(ns / NS_PER_S), nanos: Number(ns % NS_PER_S) };
}

export interface FieldMask {
  paths: string[];
}

export function maskPaths(mask: FieldMask | null | undefined): string[] {
  return mask?.paths ?? [];
}
