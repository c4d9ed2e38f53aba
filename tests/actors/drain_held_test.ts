/** The drainer copies what this process committed from memory, and falls back to KV when it must. */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";
import type { HistoryBatch, HistoryStore } from "../../src/history/history_store.ts";
import { DRAIN_DELAY_MS } from "../../actors/drainer.ts";

/** `kv` with its reads of the outbox counted. */
function counting(kv: Deno.Kv): { kv: Deno.Kv; outboxReads: () => number } {
  let reads = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          if ("prefix" in selector && selector.prefix[0] === keys.outboxAll[0]) reads++;
          return target.list(selector, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxy, outboxReads: () => reads };
}

async function untilInSql(rt: Runtime, id: string, version: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const events = await internals(rt).history.events(id, { limit: 10_000 });
    if (events.length === version) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`history of ${id} did not reach version ${version}`);
}

async function outboxKeys(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.outboxAll })) n++;
  return n;
}

Deno.test("in steady state the drainer copies this process's commits without reading the outbox back from KV", async () => {
  const raw = await Deno.openKv(":memory:");
  const { kv, outboxReads } = counting(raw);
  const rt = await createRuntime({ kv, memory: true, tickMs: 0 });
  try {
    const s = await rt.create("default", { state: {} });
    await untilInSql(rt, s.id, 1); // the first pass walks KV, for leftovers
    const before = outboxReads();
    for (let i = 0; i < 20; i++) await rt.patch(s.id, [{ op: "add", path: `/k${i}`, value: i }]);
    await untilInSql(rt, s.id, 21);
    assert.equal(outboxReads() - before, 0);
    await rt.flush(); // and the deletes went out with later commits
    assert.equal(await outboxKeys(raw), 0);
  } finally {
    await rt.close();
    raw.close();
  }
});

Deno.test("after a failed write the drainer walks KV and copies what it held", async () => {
  const raw = await Deno.openKv(":memory:");
  const { kv, outboxReads } = counting(raw);
  const rt = await createRuntime({ kv, memory: true, tickMs: 0 });
  const history: HistoryStore = internals(rt).history;
  const write = history.write.bind(history);
  let failures = 1;
  history.write = (batch: HistoryBatch) => {
    if (failures-- > 0 && (batch.encoded?.length ?? 0) > 0) {
      return Promise.reject(new Error("SQL is away"));
    }
    return write(batch);
  };
  const errors: unknown[] = [];
  const onError = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  try {
    const s = await rt.create("default", { state: {} });
    const before = outboxReads();
    await new Promise((r) => setTimeout(r, 300)); // the first pass fails; its retry walks KV
    await rt.patch(s.id, [{ op: "add", path: "/a", value: 1 }]);
    await untilInSql(rt, s.id, 2);
    assert.equal(internals(rt).metrics.drainErrors, 1);
    assert.equal(errors.length, 1, "the failed pass was logged");
    assert.ok(outboxReads() > before, "the pass after the failure read KV");
    await rt.flush();
    assert.equal(await outboxKeys(raw), 0);
  } finally {
    console.error = onError;
    await rt.close();
    raw.close();
  }
});

Deno.test("under a steady light load each SQL write carries the commits of a whole drain delay", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0 });
  const history: HistoryStore = internals(rt).history;
  const write = history.write.bind(history);
  let writes = 0;
  // Each write takes 5 ms, as a worker's SQL transaction may: longer than between two commits.
  history.write = async (batch: HistoryBatch) => {
    if ((batch.encoded?.length ?? 0) > 0) writes++;
    await new Promise((r) => setTimeout(r, 5));
    return await write(batch);
  };
  try {
    const s = await rt.create("default", { state: {} });
    await untilInSql(rt, s.id, 1);
    writes = 0;
    // 150 commits, one every 2 ms or so: about 300 ms, three drain delays of 100 ms.
    const started = performance.now();
    for (let i = 0; i < 150; i++) {
      await rt.patch(s.id, [{ op: "add", path: `/k${i}`, value: i }]);
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsed = performance.now() - started;
    await untilInSql(rt, s.id, 151);
    const bound = Math.ceil(elapsed / DRAIN_DELAY_MS) + 2;
    assert.ok(
      writes <= bound,
      `${writes} SQL writes for 150 commits over ${elapsed} ms (at most ${bound})`,
    );
  } finally {
    await rt.close();
  }
});
