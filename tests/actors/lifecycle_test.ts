import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { TransitionError } from "../../src/errors.ts";
import { memoryRuntime } from "../core/_fixtures.ts";
import { internals } from "../../actors/runtime.ts";

Deno.test("resume() of a completed session fails with 409 'Cannot resume completed session'", async () => {
  const rt = await memoryRuntime();
  try {
    const s = await rt.create();
    await rt.complete(s.id, { summary: "done" });
    await assert.rejects(
      rt.resume(s.id),
      (e) =>
        e instanceof TransitionError && e.status === 409 &&
        e.message === "Cannot resume completed session",
    );
  } finally {
    await rt.close();
  }
});

Deno.test("every transition outside the lifecycle table is 409 and names the current status", async () => {
  const rt = await memoryRuntime();
  try {
    const s = await rt.create();
    await assert.rejects(rt.resume(s.id), /Cannot resume session '.*': it is active/);
    await rt.pause(s.id);
    await assert.rejects(rt.pause(s.id), /it is paused/);
    await assert.rejects(rt.patch(s.id, [{ op: "add", path: "/x", value: 1 }]), /is paused/);
    await rt.fail(s.id, "agent crashed");
    await assert.rejects(
      rt.pause(s.id),
      (e) => e instanceof TransitionError && /failed/.test(e.message),
    );
    await assert.rejects(rt.complete(s.id), /failed/);
    await assert.rejects(rt.patch(s.id, [{ op: "add", path: "/x", value: 1 }]), /failed/);
    const failed = await rt.get(s.id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "agent crashed");
  } finally {
    await rt.close();
  }
});

Deno.test("a completed session leaves KV after the drain and is served from SQL with its final state and checkpoint", async () => {
  const rt = await memoryRuntime();
  try {
    const s = await rt.create("default", { state: { n: 1 }, name: "cold" });
    await rt.patch(s.id, [{ op: "replace", path: "/n", value: 2 }]);
    await rt.complete(s.id, { ok: true });
    await rt.flush();
    const hot = [];
    for await (const e of internals(rt).stores.kv.list({ prefix: ["s", s.id] })) hot.push(e.key);
    assert.deepEqual(hot, []);
    const cold = await rt.get(s.id);
    assert.equal(cold.status, "completed");
    assert.deepEqual(cold.state, { n: 2 });
    assert.deepEqual(cold.report, { ok: true });
    const [final] = await rt.checkpoints(s.id);
    assert.equal(final.final, true);
    assert.deepEqual(final.state, { n: 2 });
    assert.equal((await rt.list({ status: "completed" })).items[0].id, s.id);
  } finally {
    await rt.close();
  }
});

Deno.test("the active TTL slides with every command, and a session past expiresAt reads as expired even before the sweeper", async () => {
  const clock = new ManualClock();
  const rt = await memoryRuntime({ clock });
  try {
    const s = await rt.create("default", { ttl: { active: "1h" } });
    clock.advance(50 * 60_000);
    await rt.patch(s.id, [{ op: "add", path: "/a", value: 1 }]);
    clock.advance(50 * 60_000); // 100 min after create, 50 after the last command
    assert.equal((await rt.get(s.id)).status, "active");
    clock.advance(11 * 60_000);
    const read = await rt.get(s.id);
    assert.equal(read.status, "expired");
    await assert.rejects(rt.patch(s.id, [{ op: "add", path: "/b", value: 1 }]), /expired/);
    await rt.flush();
    const after = await rt.get(s.id);
    assert.equal(after.status, "expired");
    assert.deepEqual(after.state, { a: 1 });
  } finally {
    await rt.close();
  }
});

Deno.test("the sweeper expires active sessions past their TTL and paused ones past the paused TTL", async () => {
  const clock = new ManualClock();
  const rt = await memoryRuntime({ clock });
  try {
    const active = await rt.create("default", { ttl: { active: "1h", paused: "2h" } });
    const paused = await rt.create("default", { ttl: { active: "1h", paused: "2h" } });
    const fresh = await rt.create("default", { ttl: { active: "3h" } });
    await rt.pause(paused.id);
    clock.advance(61 * 60_000);
    assert.deepEqual(await rt.tick(), [active.id]);
    clock.advance(60 * 60_000);
    assert.deepEqual(await rt.tick(), [paused.id]);
    await rt.flush();
    assert.equal((await rt.get(active.id)).status, "expired");
    assert.equal((await rt.get(paused.id)).status, "expired");
    assert.equal((await rt.get(fresh.id)).status, "active");
  } finally {
    await rt.close();
  }
});

Deno.test("idle actors are passivated and reactivated from KV with the same state", async () => {
  const clock = new ManualClock();
  const rt = await memoryRuntime({ clock, idleMs: 1000 });
  try {
    const s = await rt.create("ledger");
    await rt.action(s.id, "step", { v: 3, tag: "x" }, { id: "once" });
    const before = await rt.get(s.id);
    assert.equal(rt.liveActors, 1);
    clock.advance(2000);
    await rt.tick();
    assert.equal(rt.liveActors, 0);
    assert.deepEqual(await rt.get(s.id), before);
    // command ids are remembered durably, not only in memory
    const again = await rt.action(s.id, "step", { v: 3, tag: "x" }, { id: "once" });
    assert.equal(again.duplicate, true);
  } finally {
    await rt.close();
  }
});

Deno.test("an actor idle for 30 s lets go of its command ids, and a resent id is still a duplicate", async () => {
  const clock = new ManualClock();
  const rt = await memoryRuntime({ clock });
  const holding = () => internals(rt).metrics.gauges().actorsHoldingCommandIds;
  try {
    const quiet = await rt.create("ledger");
    const busy = await rt.create("ledger");
    await rt.action(quiet.id, "step", { v: 3, tag: "x" }, { id: "once" });
    await rt.action(busy.id, "step", { v: 1, tag: "y" }, { id: "b1" });
    assert.equal(holding(), 2);
    clock.advance(20_000);
    await rt.action(busy.id, "step", { v: 1, tag: "z" }, { id: "b2" });
    clock.advance(15_000); // quiet: 35 s idle; busy: 15 s
    await rt.tick();
    assert.equal(holding(), 1);
    assert.equal(rt.liveActors, 2, "trimmed, not passivated");
    const again = await rt.action(quiet.id, "step", { v: 3, tag: "x" }, { id: "once" });
    assert.deepEqual([again.duplicate, again.version, again.result], [true, 2, { acc: 3 }]);
    assert.equal(holding(), 2);
    assert.deepEqual((await rt.get(quiet.id)).state.log, ["x"]);
  } finally {
    await rt.close();
  }
});

Deno.test("the live-actor cap evicts the least recently used idle actor", async () => {
  const rt = await memoryRuntime({ maxActors: 3 });
  try {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await rt.create("default", { state: { i } })).id);
    assert.equal(rt.liveActors, 3);
    for (let i = 0; i < 5; i++) assert.deepEqual((await rt.get(ids[i])).state, { i });
    assert.ok(rt.liveActors <= 3);
  } finally {
    await rt.close();
  }
});

Deno.test("commands to many sessions are committed together in one atomic", async () => {
  const rt = await memoryRuntime();
  try {
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push((await rt.create()).id);
    const commitsBefore = internals(rt).metrics.commits;
    await Promise.all(
      ids.flatMap((id) =>
        Array.from(
          { length: 10 },
          (_, j) => rt.patch(id, [{ op: "add", path: `/k${j}`, value: j }]),
        )
      ),
    );
    const commits = internals(rt).metrics.commits - commitsBefore;
    assert.ok(commits < 20 * 10 / 4, `200 commands took ${commits} commits`);
    for (const id of ids) assert.equal(Object.keys((await rt.get(id)).state).length, 10);
  } finally {
    await rt.close();
  }
});

Deno.test("an action that throws is undone alone: the rest of its batch commits", async () => {
  const rt = await memoryRuntime();
  try {
    const s = await rt.create("ledger");
    const results = await Promise.allSettled([
      rt.action(s.id, "step", { v: 1, tag: "a" }),
      rt.action(s.id, "boom", {}),
      rt.action(s.id, "step", { v: 2, tag: "b" }),
      rt.action(s.id, "step", { v: -1, tag: "bad args" }),
      rt.action(s.id, "nope", {}),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
      "rejected",
    ]);
    assert.match(String((results[3] as PromiseRejectedResult).reason.message), /Invalid arguments/);
    assert.equal((results[4] as PromiseRejectedResult).reason.status, 404);
    const after = await rt.get(s.id);
    assert.deepEqual(after.state.log, ["a", "b"]);
    assert.equal(after.version, 3);
  } finally {
    await rt.close();
  }
});

Deno.test("a resent id whose result is too large to keep inline still gets the first result, after passivation and a drain", async () => {
  const clock = new ManualClock();
  const rt = await memoryRuntime({ clock, idleMs: 1000 });
  try {
    const s = await rt.create("ledger");
    const text = "é".repeat(3000);
    const first = await rt.action(s.id, "echo", { text }, { id: "big-1" });
    const hot = await rt.action(s.id, "echo", { text: "other" }, { id: "big-1" });
    assert.deepEqual(hot, { ...first, duplicate: true });
    await rt.flush(); // the action event leaves the outbox for SQL
    clock.advance(2000);
    await rt.tick(); // passivated: the memory is read back from KV
    const cold = await rt.action(s.id, "echo", { text: "other" }, { id: "big-1" });
    assert.deepEqual(cold, { ...first, duplicate: true });
    assert.equal((await rt.get(s.id)).version, first.version);
  } finally {
    await rt.close();
  }
});

Deno.test("command memory keeps the last 1,000 ids: the 1,001st-oldest is applied again", async () => {
  const rt = await memoryRuntime();
  try {
    const s = await rt.create("ledger");
    await Promise.all(
      Array.from(
        { length: 1001 },
        (_, i) => rt.action(s.id, "step", { v: 1, tag: `t${i}` }, { id: `id-${i}` }),
      ),
    );
    const recent = await rt.action(s.id, "step", { v: 1, tag: "again" }, { id: "id-1000" });
    assert.equal(recent.duplicate, true);
    const forgotten = await rt.action(s.id, "step", { v: 1, tag: "again" }, { id: "id-0" });
    assert.equal(forgotten.duplicate, undefined);
  } finally {
    await rt.close();
  }
});
