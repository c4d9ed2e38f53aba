/**
 * Memory per live idle actor. Run with `--v8-flags=--expose-gc`.
 *
 * Opens a data dir built by probe_dataset.ts (sessions `<prefix>-<i>`) in a
 * fresh process, measures RSS after GC, activates `--actors` sessions
 * (`rt.get`, which leaves a loaded, idle actor), and measures again. The
 * baseline is the same count of plain session objects (as `rt.get` returns
 * them) held in an array, measured first, in the same process.
 *
 *   deno run -A --v8-flags=--expose-gc bench/probe_memory.ts --dir DIR [--prefix d]
 *     [--actors 10000]
 *
 * Prints `{perActor, heapPerActor, perPlain, live}` in bytes.
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { emit, flags, num } from "./_args.ts";
import { pool } from "./_ws.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return Deno.memoryUsage();
};

const f = flags();
const dir = f.get("dir")!;
const n = num(f, "actors", 10_000);
const prefix = f.get("prefix") ?? "d";
const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

const rt = await createRuntime({ dataDir: dir, tickMs: 0, maxActors: n * 2, idleMs: 3_600_000 });
const template = await rt.get(ids[0]); // also warms the code paths before the first measurement

const m0 = await settle();
const plain = ids.map((id) => structuredClone({ ...template, id }));
const m1 = await settle();
await pool(ids, 64, async (id) => void await rt.get(id));
const m2 = await settle();
if (rt.liveActors < n) throw new Error(`only ${rt.liveActors} of ${n} actors stayed live`);
emit({
  perActor: (m2.rss - m1.rss) / n,
  heapPerActor: (m2.heapUsed - m1.heapUsed) / n,
  perPlain: (m1.rss - m0.rss) / n,
  plainHeap: (m1.heapUsed - m0.heapUsed) / n,
  live: rt.liveActors,
  held: plain.length,
});
await rt.close();
