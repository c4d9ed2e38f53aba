/**
 * One busy session among many idle live actors, through the library with
 * KV and SQL in memory: pipelined patches to one session, first with no
 * other actor live (the baseline), then with `--actors` idle ones. The rate
 * should not fall with the actors around it; it did, from 114k to 26k
 * patches/s at 10,000 actors, while the registry moved an actor's Map entry
 * to the end on every use.
 *
 *   deno run -A bench/probe_hot_session.ts [--actors 10000] [--patches 40000]
 *
 * Prints `{alone, among, actors, ratio}`: patches/s, the median of 3 runs each.
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { emit, flags, num } from "./_args.ts";

const f = flags();
const actors = num(f, "actors", 10_000);
const patches = num(f, "patches", 40_000);
const WINDOW = 500;

const rt = await createRuntime({ memory: true, tickMs: 0, maxActors: actors + 10 });
try {
  const hot = await rt.create("default", { state: { n: 0 } });
  const rate = async () => {
    const t = performance.now();
    for (let i = 0; i < patches; i += WINDOW) {
      await Promise.all(
        Array.from(
          { length: WINDOW },
          (_, j) => rt.patch(hot.id, [{ op: "replace", path: "/n", value: i + j }]),
        ),
      );
    }
    return patches / ((performance.now() - t) / 1000);
  };
  const median3 = async () => {
    await rate(); // warm-up
    const runs = [await rate(), await rate(), await rate()].sort((a, b) => a - b);
    return runs[1];
  };
  const alone = await median3();
  for (let i = 0; i < actors; i += 100) {
    const n = Math.min(100, actors - i);
    await Promise.all(Array.from({ length: n }, () => rt.create("default", { state: { n: 0 } })));
  }
  const among = await median3();
  emit({ alone, among, actors: rt.liveActors - 1, ratio: among / alone });
} finally {
  await rt.close();
}
