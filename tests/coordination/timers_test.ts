import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { ManualClock } from "../../src/clock.ts";
import { NotFoundError, ValidationError } from "../../src/errors.ts";
import { withTwoRuntimes } from "../core/_fixtures.ts";
import { clockRuntime, eventTypes, research } from "./_fixtures.ts";

Deno.test("a timer scheduled in an action runs its action once, as a command, when due", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const { result: tid } = await rt.action(s.id, "later", { in: "5s", by: 7 });
    assert.deepEqual((await rt.timers(s.id)).map((t) => t.id), [tid]);
    clock.advance(4_999);
    assert.equal(await rt.runDue(), 0, "not due yet");
    assert.equal((await rt.get(s.id)).state.n, 0);
    clock.advance(1);
    assert.equal(await rt.runDue(), 1);
    assert.equal((await rt.get(s.id)).state.n, 7);
    assert.deepEqual(await rt.timers(s.id), []);
    assert.equal(await rt.runDue(), 0, "its index key went with the commit");
    assert.deepEqual(await eventTypes(rt, s.id), [
      "created",
      "action",
      "timer.scheduled",
      "timer.fired",
      "action",
    ]);
    const fired = (await rt.events(s.id)).filter((e) => e.type === "timer.fired");
    assert.equal(fired.length, 1);
    assert.deepEqual(fired[0].data, { id: tid, due: "2026-01-01T00:00:05.000Z", action: "bump" });
    const after = (await rt.events(s.id)).findIndex((e) => e.type === "timer.fired");
    assert.equal((await rt.events(s.id))[after + 1].type, "action", "the action's event follows");
  } finally {
    await rt.close();
  }
});

Deno.test("timers over the library: a patch timer, a reminder with data, cancel and its 404s", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("default", { state: { n: 1 } });
    const p = await rt.schedule(s.id, {
      in: "1m",
      patch: [{ op: "replace", path: "/n", value: 2 }],
    });
    const r = await rt.schedule(s.id, {
      id: "remind",
      at: clock.now() + 30_000,
      data: { say: "hi" },
    });
    const c = await rt.schedule(s.id, { in: "2m" });
    assert.deepEqual((await rt.timers(s.id)).map((t) => t.id), ["remind", p.id, c.id]);
    await rt.cancelTimer(s.id, c.id);
    await assert.rejects(rt.cancelTimer(s.id, c.id), NotFoundError);
    await assert.rejects(rt.cancelTimer(s.id, "nope"), NotFoundError);
    clock.advance(60_000);
    assert.equal(await rt.runDue(), 2);
    assert.deepEqual((await rt.get(s.id)).state, { n: 2 });
    const reminder = (await rt.events(s.id)).find((e) =>
      e.type === "timer.fired" && (e.data as { id: string }).id === r.id
    );
    assert.deepEqual(reminder?.data, { id: "remind", due: r.due, data: { say: "hi" } });
    await assert.rejects(rt.cancelTimer(s.id, "remind"), NotFoundError, "fired timers are gone");
  } finally {
    await rt.close();
  }
});

Deno.test("bad timers are refused whole: both in and at, neither, an unknown action, too far ahead", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await assert.rejects(rt.schedule(s.id, { in: "1m", at: 5 }), ValidationError);
    await assert.rejects(rt.schedule(s.id, {}), ValidationError);
    await assert.rejects(rt.schedule(s.id, { in: "1m", action: "nope" }), NotFoundError);
    await assert.rejects(rt.schedule(s.id, { in: "4000d" }), ValidationError);
    await assert.rejects(
      rt.schedule(s.id, { in: "1m", action: "bump", patch: [{ op: "add", path: "/x", value: 1 }] }),
      ValidationError,
    );
    await rt.schedule(s.id, { id: "t1", in: "1m" });
    await assert.rejects(rt.schedule(s.id, { id: "t1", in: "1m" }), /already exists/);
    assert.equal((await rt.timers(s.id)).length, 1);
  } finally {
    await rt.close();
  }
});

Deno.test("an action that throws after scheduling leaves no timer and no approval", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await assert.rejects(rt.action(s.id, "askThenThrow", {}), /changed my mind|Internal/);
    assert.deepEqual(await rt.timers(s.id), []);
    assert.deepEqual(await rt.approvals(s.id), []);
    assert.equal((await rt.get(s.id)).pendingApprovals, 0);
  } finally {
    await rt.close();
  }
});

Deno.test("a timer whose action fails fires once with the error and never again", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.schedule(s.id, { id: "bad", in: "1s", action: "bump", args: { by: "not a number" } });
    clock.advance(1_000);
    assert.equal(await rt.runDue(), 1);
    clock.advance(60_000);
    assert.equal(await rt.runDue(), 0);
    const fired = (await rt.events(s.id)).filter((e) => e.type === "timer.fired");
    assert.equal(fired.length, 1);
    assert.equal((fired[0].data as { error: { code: string } }).error.code, "invalid");
    assert.equal((await rt.get(s.id)).state.n, 0);
  } finally {
    await rt.close();
  }
});

Deno.test("a timer due while the session is paused fires on resume, not before", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.action(s.id, "later", { in: "10s", by: 1 });
    await rt.pause(s.id);
    clock.advance(60_000);
    assert.equal(await rt.runDue(), 0, "a paused session's timers are off the index");
    assert.equal((await rt.get(s.id)).state.n, 0);
    await rt.resume(s.id);
    assert.equal(await rt.runDue(), 1);
    assert.equal((await rt.get(s.id)).state.n, 1);
  } finally {
    await rt.close();
  }
});

Deno.test("a terminal session's timers are dropped with an event and never fire", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.action(s.id, "later", { in: "10s", by: 1 });
    await rt.schedule(s.id, { id: "r", in: "20s" });
    await rt.complete(s.id);
    clock.advance(60_000);
    assert.equal(await rt.runDue(), 0);
    const dropped = (await rt.events(s.id)).find((e) => e.type === "timer.dropped");
    assert.deepEqual((dropped?.data as { ids: string[] }).ids.length, 2);
    assert.deepEqual(await rt.timers(s.id), []);
  } finally {
    await rt.close();
  }
});

Deno.test("a timer that came due while the process was down fires once after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const clock = new ManualClock();
  try {
    let rt = await createRuntime({ dataDir: dir, clock, tickMs: 0, kinds: [research] });
    const s = await rt.create("research");
    await rt.action(s.id, "later", { in: "30s", by: 5 });
    await rt.close();
    clock.advance(3_600_000);
    rt = await createRuntime({ dataDir: dir, clock, tickMs: 0, kinds: [research] });
    assert.equal(await rt.runDue(), 1);
    assert.equal(await rt.runDue(), 0);
    assert.equal((await rt.get(s.id)).state.n, 5);
    await rt.close();
    rt = await createRuntime({ dataDir: dir, clock, tickMs: 0, kinds: [research] });
    assert.equal(await rt.runDue(), 0, "fired once, across restarts");
    assert.equal((await rt.get(s.id)).state.n, 5);
    await rt.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the scheduler's own loop fires a timer on a real clock without being asked", async () => {
  const rt = await createRuntime({ memory: true, kinds: [research], scheduleMs: 20 });
  try {
    const s = await rt.create("research");
    await rt.schedule(s.id, { in: 50, action: "bump", args: { by: 3 } });
    const deadline = Date.now() + 5_000;
    while ((await rt.get(s.id)).state.n !== 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await rt.get(s.id)).state.n, 3);
  } finally {
    await rt.close();
  }
});

Deno.test("two runtimes on one KV both run the due pass: the timer's effect happens once", async () => {
  const clock = new ManualClock();
  await withTwoRuntimes(async (a, b) => {
    const s = await a.create("research");
    for (let i = 0; i < 20; i++) await a.action(s.id, "later", { in: `${i + 1}s`, by: 1 });
    clock.advance(60_000);
    await Promise.all([a.runDue(), b.runDue(), a.runDue(), b.runDue()]);
    assert.equal((await a.get(s.id)).state.n, 20);
    assert.equal((await b.get(s.id)).state.n, 20);
    await a.flush();
    const fired = (await a.events(s.id)).filter((e) => e.type === "timer.fired");
    assert.equal(fired.length, 20);
  }, { clock, kinds: [research] });
});
