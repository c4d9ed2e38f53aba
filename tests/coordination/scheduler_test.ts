import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { ManualClock } from "../../src/clock.ts";
import { SessionNotFoundError } from "../../src/errors.ts";
import { internals } from "../../actors/runtime.ts";

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("retention runs on the scheduler by itself once its period passes on the clock", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({
    memory: true,
    clock,
    tickMs: 0,
    scheduleMs: 10,
    retention: { olderThanDays: 1, keepCompleted: 0, everyMs: 60_000 },
  });
  try {
    const old = await rt.create();
    const kept = await rt.create();
    await rt.complete(old.id);
    clock.advance(2 * 86_400_000);
    await rt.complete(kept.id); // ended just now: younger than a day
    await until(async () => {
      try {
        await rt.get(old.id);
        return false;
      } catch (e) {
        if (e instanceof SessionNotFoundError) return true;
        throw e;
      }
    });
    assert.equal((await rt.get(kept.id)).status, "completed");
  } finally {
    await rt.close();
  }
});

Deno.test("retention is off by default in memory, and cleanup's dryRun deletes nothing", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({ memory: true, clock, tickMs: 0, scheduleMs: 10 });
  try {
    const s = await rt.create();
    await rt.complete(s.id);
    clock.advance(40 * 86_400_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await rt.get(s.id)).status, "completed");
    assert.deepEqual(await rt.cleanup({ keepCompleted: 0, dryRun: true }), [s.id]);
    assert.equal((await rt.get(s.id)).status, "completed");
    assert.deepEqual(await rt.cleanup({ keepCompleted: 0 }), [s.id]);
    await assert.rejects(rt.get(s.id), SessionNotFoundError);
  } finally {
    await rt.close();
  }
});

Deno.test("session expiry runs on the same scheduler loop", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({ memory: true, clock, tickMs: 1_000, scheduleMs: 10 });
  try {
    const s = await rt.create("default", { ttl: { active: "1h" } });
    clock.advance(3_600_001);
    await until(async () => (await rt.list({ status: "expired" })).items.length === 1);
    assert.equal((await rt.get(s.id)).status, "expired");
  } finally {
    await rt.close();
  }
});

Deno.test("metrics count what the scheduler ran and how late", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({ memory: true, clock, tickMs: 0 });
  try {
    const s = await rt.create();
    await rt.schedule(s.id, { in: "1s" });
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
    await rt.claim(s.id, { agent: "x", lease: "1s" });
    await rt.requestApproval(s.id, { prompt: "?", deadline: "1s" });
    clock.advance(1_200);
    assert.equal(await rt.runDue(), 3);
    const text = internals(rt).metrics.render();
    assert.match(text, /^denizen_timers_fired_total 1$/m);
    assert.match(text, /^denizen_lease_expiries_total 1$/m);
    assert.match(text, /^denizen_approval_deadlines_total 1$/m);
    assert.match(text, /^denizen_due_lateness_ms_bucket\{le="250"\} 3$/m);
  } finally {
    await rt.close();
  }
});

Deno.test("metrics count the timers, deadlines and leases on the scheduler and the pending approvals", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({ memory: true, clock, tickMs: 0, scheduleMs: 10 });
  try {
    const s = await rt.create();
    await rt.schedule(s.id, { in: "1h" });
    await rt.schedule(s.id, { in: "2h" });
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
    await rt.claim(s.id, { agent: "x", lease: "1h" });
    await rt.requestApproval(s.id, { prompt: "?", deadline: "1h" });
    clock.advance(15_000); // the count runs every 15 s of the clock
    await until(() =>
      Promise.resolve(/^denizen_timers_pending 2$/m.test(internals(rt).metrics.render()))
    );
    const text = internals(rt).metrics.render();
    assert.match(text, /^denizen_leases_held 1$/m);
    assert.match(text, /^denizen_approval_deadlines_pending 1$/m);
    assert.match(text, /^denizen_approvals_pending 1$/m);
  } finally {
    await rt.close();
  }
});
