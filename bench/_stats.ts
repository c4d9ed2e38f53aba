/**
 * Small statistics for the benchmark: median and nearest-rank percentiles.
 *
 * @module
 */

/** The `p`-th percentile (0..100) of `xs` by nearest rank; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median of `xs` (mean of the middle two when even); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** p50, p99 and max of latency samples, in the samples' unit. */
export function latencies(
  xs: readonly number[],
): { p50: number; p99: number; max: number; n: number } {
  return {
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    max: percentile(xs, 100),
    n: xs.length,
  };
}
