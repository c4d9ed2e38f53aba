/**
 * The raw KV limits, with no runtime, on a fresh KV file:
 * - throughput: sequential `kv.atomic()` commits of `--per` sets each;
 * - with `--rate R`: commit latency of `--per` sets per atomic, R atomics per
 *   second on a schedule (what one update costs KV at that offered load).
 *
 *   deno run -A bench/load_rawkv.ts --dir DIR [--per 64] [--seconds 3] [--rate R]
 *
 * Prints `{rate}` in keys per second, or `{p50, p99, max, n}` in ms.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { latencies } from "./_stats.ts";

const f = flags();
const dir = f.get("dir")!;
const per = num(f, "per", 64);
const seconds = num(f, "seconds", 3);
const rate = num(f, "rate", 0);
await Deno.mkdir(dir, { recursive: true });
const kv = await Deno.openKv(`${dir}/raw.sqlite3`);
const value = { op: "replace", path: "/n", text: "x".repeat(160) };
let keys = 0;
const commit = async () => {
  const op = kv.atomic();
  for (let i = 0; i < per; i++) op.set(["raw", keys + i], { ...value, n: keys + i });
  keys += per;
  if (!(await op.commit()).ok) throw new Error("raw commit failed");
};

const t0 = performance.now();
if (rate > 0) {
  const samples: number[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const started = performance.now();
    await commit();
    samples.push(performance.now() - started);
  }
  emit({ ...latencies(samples), per });
} else {
  while (performance.now() - t0 < seconds * 1000) await commit();
  emit({ rate: keys / ((performance.now() - t0) / 1000), keys, per });
}
kv.close();
