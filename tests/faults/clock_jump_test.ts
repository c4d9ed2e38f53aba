/**
 * Fault 6: the wall clock jumps forward and back (an NTP step, a VM restored
 * from a snapshot). `ManualClock.advance` takes a negative step too, which
 * is the jump back. Timers, leases and expiry are absolute times compared
 * with the clock in the actor's turn, so a jump back delays them by its
 * size and never fires one early; a jump forward fires each once.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { TransitionError } from "../../src/errors.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";
import { faultRuntime, until } from "./_faults.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

async function eventTypes(rt: Runtime, id: string): Promise<string[]> {
  return (await rt.events(id, { limit: 1000 })).map((e) => e.type);
}

function count(types: string[], type: string): number {
  return types.filter((t) => t === type).length;
}

Deno.test("timers: a jump back fires nothing early, a jump forward fires each due timer once", async () => {
  const clock = new ManualClock();
  const rt = await faultRuntime({ clock });
  try {
    const s = await rt.create("default", { state: { n: 0 } });
    await rt.schedule(s.id, { in: "10m", data: { remind: true } });
    await rt.schedule(s.id, { in: "30m", patch: [{ op: "replace", path: "/n", value: 1 }] });

    clock.advance(-HOUR); // back an hour
    assert.equal(await rt.runDue(), 0);
    clock.advance(HOUR + 9 * MIN); // T + 9 min: still nothing due
    assert.equal(await rt.runDue(), 0);
    assert.equal((await rt.timers(s.id)).length, 2);

    clock.advance(2 * HOUR); // forward past both
    assert.equal(await rt.runDue(), 2);
    assert.equal(await rt.runDue(), 0, "each fires once");
    clock.advance(-3 * HOUR); // and back again: nothing comes back
    assert.equal(await rt.runDue(), 0);
    assert.deepEqual(await rt.timers(s.id), []);
    assert.equal((await rt.get(s.id)).state.n, 1);
    assert.equal(count(await eventTypes(rt, s.id), "timer.fired"), 2);
    assert.equal(internals(rt).metrics.dueFired.timers, 2);
  } finally {
    await rt.close();
  }
});

Deno.test("leases: a jump back never lapses a lease early, a jump forward lapses it once", async () => {
  const clock = new ManualClock();
  const rt = await faultRuntime({ clock });
  try {
    const s = await rt.create("default", { state: {} });
    await rt.addTasks(s.id, { tasks: [{ id: "t1", title: "one" }] });
    const claimed = await rt.claim(s.id, { agent: "a", lease: "60s" });
    assert.equal(claimed?.holder, "a");

    clock.advance(-HOUR);
    assert.equal(await rt.runDue(), 0);
    const [held] = await rt.tasks(s.id);
    assert.equal(held.status, "claimed");
    assert.equal(held.holder, "a");
    // A heartbeat after the jump gives a lease of 60 s from the clock's now.
    const beat = await rt.heartbeat(s.id, "t1", { agent: "a" });
    assert.equal(Date.parse(beat.leaseUntil!), clock.now() + MIN);
    clock.advance(59_000);
    assert.equal(await rt.runDue(), 0, "not before the lease ends");
    assert.equal((await rt.tasks(s.id))[0].holder, "a");

    clock.advance(3 * HOUR); // far forward: the lease lapses once, not once per minute
    assert.equal(await rt.runDue(), 1);
    assert.equal(await rt.runDue(), 0);
    const [lapsed] = await rt.tasks(s.id);
    assert.equal(lapsed.status, "ready");
    assert.equal(lapsed.holder, undefined);
    assert.equal(count(await eventTypes(rt, s.id), "task.lease_expired"), 1);
    clock.advance(-5 * HOUR);
    assert.equal(await rt.runDue(), 0);
    assert.equal((await rt.tasks(s.id))[0].status, "ready");
  } finally {
    await rt.close();
  }
});

Deno.test("expiry: a jump forward expires a session once, and a jump back never brings it back", async () => {
  const clock = new ManualClock();
  const rt = await faultRuntime({ clock });
  try {
    const s = await rt.create("default", { state: {}, ttl: { active: "1h" } });
    const other = await rt.create("default", { state: {}, ttl: { active: "1h" } });

    clock.advance(-2 * HOUR); // a command after a jump back slides expiry from the new now
    await rt.patch(s.id, [{ op: "add", path: "/a", value: 1 }]);
    assert.equal((await rt.get(s.id)).expiresAt, new Date(clock.now() + HOUR).toISOString());
    assert.deepEqual(await rt.tick(), []);

    clock.advance(5 * HOUR); // past both expiries
    assert.deepEqual((await rt.tick()).sort(), [s.id, other.id].sort());
    assert.deepEqual(await rt.tick(), [], "expired once");

    clock.advance(-10 * HOUR); // far back: before both were created
    for (const id of [s.id, other.id]) {
      const back = await rt.get(id);
      assert.equal(back.status, "expired", "still expired after the jump back");
      await assert.rejects(rt.patch(id, [{ op: "add", path: "/b", value: 1 }]), TransitionError);
      assert.equal(count(await eventTypes(rt, id), "expired"), 1);
    }
    const listed = await rt.list({ status: "expired" });
    assert.deepEqual(listed.items.map((i) => i.id).sort(), [s.id, other.id].sort());
  } finally {
    await rt.close();
  }
});

Deno.test({
  name: "the expiry sweep keeps its period after a jump back of the clock",
  async fn() {
    const clock = new ManualClock();
    const rt = await faultRuntime({ clock, tickMs: 30_000, scheduleMs: 5 });
    try {
      clock.advance(-HOUR);
      // The scheduler sees the clock when its loop runs (every 5 ms here): let it see the jump.
      await new Promise((r) => setTimeout(r, 100));
      const s = await rt.create("default", { state: {}, ttl: { active: "10m" } });
      clock.advance(11 * MIN); // past its expiry, and 11 min since the jump
      await until(
        async () => {
          await rt.flush();
          return (await internals(rt).history.getSession(s.id))?.status === "expired";
        },
        "the sweep to expire the session",
        10_000, // generous: the suite runs in parallel on 2 cores
        20,
      );
    } finally {
      await rt.close();
    }
  },
});
