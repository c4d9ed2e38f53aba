import assert from "node:assert/strict";
import { type MemorySample, memoryTrend, slope } from "../../soak/_trend.ts";

const MIB = 1024 * 1024;
const limits = { heap: 1, rss: 10 };

/** Samples every 15 s for `minutes`, heap and RSS in MiB from `heap(t)` and `rss(t)`. */
function samples(
  minutes: number,
  heap: (t: number) => number,
  rss: (t: number) => number,
): MemorySample[] {
  return Array.from({ length: minutes * 4 + 1 }, (_, i) => {
    const t = i / 4;
    return { t, heap: heap(t) * MIB, rss: rss(t) * MIB };
  });
}

Deno.test("slope() is the least-squares slope, 0 with fewer than two points", () => {
  assert.equal(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.equal(slope([0], [5]), 0);
  assert.equal(slope([1, 1], [0, 5]), 0);
});

Deno.test("memoryTrend() of a level heap with noise is no trend", () => {
  const trend = memoryTrend(
    samples(5, (t) => 40 + Math.sin(t * 7) * 2, (t) => 300 + Math.cos(t * 5) * 8),
    limits,
  );
  assert.equal(trend.growing, undefined);
  assert.ok(Math.abs(trend.heapMiBPerMin) < 1);
});

Deno.test("memoryTrend() flags a heap that keeps 2 MiB a minute", () => {
  const trend = memoryTrend(samples(5, (t) => 40 + 2 * t, () => 300), limits);
  assert.equal(trend.heapMiBPerMin, 2);
  assert.match(trend.growing ?? "", /^heap 2.00 MiB\/min/);
});

Deno.test("memoryTrend() flags an RSS that grows while the heap does not", () => {
  const trend = memoryTrend(samples(5, () => 40, (t) => 300 + 20 * t), limits);
  assert.equal(trend.rssMiBPerMin, 20);
  assert.match(trend.growing ?? "", /^RSS 20.00 MiB\/min/);
});

Deno.test("memoryTrend() of a warm-up that fills, then levels, flags it only with the warm-up in", () => {
  const all = samples(9, (t) => 30 + 5 * Math.min(t, 4), () => 300);
  assert.ok(memoryTrend(all, limits).growing);
  assert.equal(memoryTrend(all.filter((s) => s.t >= 4), limits).growing, undefined);
});
