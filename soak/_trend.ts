/** The soak's memory verdict: the slope of memory samples, and whether it is a trend. */

/** One memory sample of the server, `t` minutes into the load. */
export interface MemorySample {
  t: number;
  /** Resident set, in bytes. */
  rss: number;
  /** V8 heap in use, in bytes. */
  heap: number;
}

/** Slopes above which the full soak fails, in MiB a minute. */
export interface TrendLimits {
  heap: number;
  rss: number;
}

/** The slopes of a run's samples, in MiB a minute, and the verdict. */
export interface Trend {
  heapMiBPerMin: number;
  rssMiBPerMin: number;
  /** Why the samples show a trend; undefined when they do not. */
  growing?: string;
}

const MIB = 1024 * 1024;

/** Least-squares slope of `ys` over `xs`; 0 with fewer than two points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The trend of samples taken after a full collection (so the heap is what
 * the server keeps, not garbage not yet collected). Memory grows while the
 * bounded structures fill; pass only the samples after that warm-up. A
 * trend is a heap that grows faster than `limits.heap`, or an RSS that grows
 * faster than `limits.rss`.
 */
export function memoryTrend(samples: readonly MemorySample[], limits: TrendLimits): Trend {
  const t = samples.map((s) => s.t);
  const heap = slope(t, samples.map((s) => s.heap)) / MIB;
  const rss = slope(t, samples.map((s) => s.rss)) / MIB;
  const trend: Trend = { heapMiBPerMin: +heap.toFixed(2), rssMiBPerMin: +rss.toFixed(2) };
  const over = [
    heap > limits.heap ? `heap ${heap.toFixed(2)} MiB/min (limit ${limits.heap})` : "",
    rss > limits.rss ? `RSS ${rss.toFixed(2)} MiB/min (limit ${limits.rss})` : "",
  ].filter((s) => s !== "");
  if (over.length > 0) trend.growing = over.join(", ");
  return trend;
}
