/** Fault 2: SQLite history writes fail with "database is locked" (SQLITE_BUSY) while commands go on. */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { RETRY_MAX_MS, RETRY_MIN_MS } from "../../actors/drainer.ts";
import { call } from "../routes/_fixtures.ts";
import { assertHistoryComplete, faultyHistory, quietly, tally, until } from "./_faults.ts";
import { internals } from "../../actors/runtime.ts";

Deno.test("history writes failing with 'database is locked': acks go on, /healthz says degraded with the lag, the drainer backs off and history catches up once", async () => {
  const dir = await Deno.makeTempDir();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [tally] });
  try {
    const s = await rt.create("tally", { id: "s1" });
    await rt.flush();
    const fault = faultyHistory(rt);
    fault.failing = true;
    const { logged } = await quietly(async () => {
      const started = performance.now();
      for (let i = 0; i < 60; i += 5) {
        const acks = await Promise.all(
          [0, 1, 2, 3, 4].map((j) => rt.action(s.id, "add", { tag: `t${i + j}` })),
        );
        assert.equal(acks.length, 5, "every command is acked while history is locked");
        await new Promise((r) => setTimeout(r, 40));
      }
      await until(() => fault.failures >= 3, "three failed passes", 3_000);
      // One try per backoff, not one per commit: the waits are at least 100, 200, 400 ms.
      const gaps = fault.times.slice(1).map((t, i) => t - fault.times[i]);
      gaps.forEach((gap, i) => {
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** i);
        assert.ok(
          gap >= backoff - 15,
          `waits ${gaps.map(Math.round)} grow from ${RETRY_MIN_MS} ms`,
        );
      });
      assert.ok(
        fault.attempts < 10,
        `${fault.attempts} tries in ${performance.now() - started} ms`,
      );

      const health = await call(rt, "GET", "/healthz");
      assert.equal(health.status, 200, "degraded, still ready: commands are acked");
      assert.equal(health.body.degraded, true);
      assert.equal(health.body.sql, "ok");
      assert.ok(health.body.history.lagMs > 0, JSON.stringify(health.body));
      assert.ok(health.body.history.pending >= 60);
      assert.match(health.body.history.error, /database is locked/);

      // Reads that need SQL to be complete answer a clear 503, reads from KV go on.
      const list = await call(rt, "GET", "/v1/sessions");
      assert.equal(list.status, 503);
      assert.equal(list.body.error.code, "unavailable");
      assert.equal((await call(rt, "GET", "/v1/sessions/s1")).body.version, 61);
    });
    assert.ok(logged.some((l) => l.includes("database is locked")), "failed passes are logged");

    fault.failing = false;
    // The drainer catches up by itself, within one backoff: nobody flushes.
    await until(
      async () => (await internals(rt).history.events(s.id, { limit: 1000 })).length === 61,
      "history to catch up",
      RETRY_MAX_MS + 1_000,
    );
    // SQL can show the events a moment before the write's answer reaches the drainer.
    await until(async () => !(await call(rt, "GET", "/healthz")).body.degraded, "healthy");
    const healthy = await call(rt, "GET", "/healthz");
    assert.equal(healthy.status, 200);
    assert.deepEqual(healthy.body, { ok: true, kv: "ok", sql: "ok" });
    await assertHistoryComplete(rt, s.id);
    assert.deepEqual(
      (await rt.get(s.id)).state.log,
      Array.from({ length: 60 }, (_, i) => `t${i}`),
    );
  } finally {
    await rt.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a history write that fails once is retried without a new commit", async () => {
  const dir = await Deno.makeTempDir();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [tally] });
  try {
    const s = await rt.create("tally");
    await rt.flush();
    const fault = faultyHistory(rt);
    fault.failing = true;
    await quietly(async () => {
      await rt.action(s.id, "add", { tag: "only" });
      await until(() => fault.failures === 1, "the first pass to fail");
      fault.failing = false;
      // No command follows: the retry alone carries the event into SQL.
      await until(
        async () => (await internals(rt).history.events(s.id)).length === 2,
        "the retry to land",
        RETRY_MIN_MS * 4 + 500,
      );
    });
    await until(() => internals(rt).stores.historyWrites.failures === 0, "the write's answer");
    await assertHistoryComplete(rt, s.id);
  } finally {
    await rt.close();
    await Deno.remove(dir, { recursive: true });
  }
});
