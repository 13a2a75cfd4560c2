// Summaries of repeated measurements: mean, standard deviation and
// percentiles (nearest rank), as the report shows them.

export interface Summary {
  n: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  /** Absent from reports written before it was added; there p99 is the max when n < 100 (nearest rank). */
  max?: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / n;
  const variance = n > 1 ? sorted.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, stddev: Math.sqrt(variance), p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), min: sorted[0], max: sorted[n - 1] };
}
