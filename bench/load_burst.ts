/**
 * Round trips of bursts through `client.ts`, as an agent meets them: a burst
 * of N patches (`replace /n`) issued together and awaited, `--rounds` times
 * for each N, by a client with its defaults (batch messages) and by one with
 * `batch: false` (one frame per message, the baseline), rounds alternating.
 *
 *   deno run -A bench/load_burst.ts --url URL --prefix P [--rounds 200]
 *     [--bursts 1,4,16,64,256]
 *
 * Prints `{bursts: {N: {batch: {p50, p99}, single: {p50, p99}}}}` in ms.
 *
 * @module
 */
import { connect } from "../client.ts";
import { emit, flags, num } from "./_args.ts";
import { latencies } from "./_stats.ts";
import { createSession } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const prefix = f.get("prefix") ?? `b${Date.now().toString(36)}`;
const rounds = num(f, "rounds", 200);
const bursts = (f.get("bursts") ?? "1,4,16,64,256").split(",").map(Number);

const clients = await Promise.all(["batch", "single"].map(async (mode) => {
  const id = `${prefix}-${mode}`;
  await createSession(url, id, { n: 0 });
  const ws = `${url.replace(/^http/, "ws")}/v1/sessions/${id}/ws`;
  return connect(ws, { agent: mode, batch: mode === "batch", staleMs: 0 });
}));

async function burst(client: (typeof clients)[number], n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => client.patch([{ op: "replace", path: "/n", value: i }])),
  );
  return performance.now() - t0;
}

const out: Record<string, Record<string, { p50: number; p99: number }>> = {};
for (const n of bursts) {
  const samples = { batch: [] as number[], single: [] as number[] };
  for (let r = 0; r < 10; r++) for (const c of clients) await burst(c, n); // warm-up
  for (let r = 0; r < rounds; r++) {
    samples.batch.push(await burst(clients[0], n));
    samples.single.push(await burst(clients[1], n));
  }
  const { p50: b50, p99: b99 } = latencies(samples.batch);
  const { p50: s50, p99: s99 } = latencies(samples.single);
  out[n] = { batch: { p50: b50, p99: b99 }, single: { p50: s50, p99: s99 } };
}
await Promise.all(clients.map((c) => c.close()));
emit({ bursts: out });
