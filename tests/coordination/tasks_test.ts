import assert from "node:assert/strict";
import fc from "fast-check";
import { createRuntime } from "../../mod.ts";
import { ManualClock } from "../../src/clock.ts";
import { NotFoundError, TransitionError, ValidationError } from "../../src/errors.ts";
import type { Task } from "../../src/coordination/model.ts";
import { withTwoRuntimes } from "../core/_fixtures.ts";
import { clockRuntime, research } from "./_fixtures.ts";

const plan = [
  { id: "search", title: "Search" },
  { id: "read", title: "Read", deps: ["search"] },
  { id: "cite", title: "Cite", deps: ["search"] },
  { id: "write", title: "Write", deps: ["read", "cite"] },
];

Deno.test("a plan with an unknown dep, a cycle or a repeated id is refused whole", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await assert.rejects(
      rt.addTasks(s.id, { tasks: [{ id: "a", title: "A", deps: ["ghost"] }] }),
      (e) => e instanceof ValidationError && /unknown task 'ghost'/.test(e.message),
    );
    await assert.rejects(
      rt.addTasks(s.id, {
        tasks: [
          { id: "ok", title: "fine" },
          { id: "a", title: "A", deps: ["c"] },
          { id: "b", title: "B", deps: ["a"] },
          { id: "c", title: "C", deps: ["b"] },
        ],
      }),
      (e) => e instanceof ValidationError && /cycle/.test(e.message),
    );
    await assert.rejects(
      rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }, { id: "a", title: "again" }] }),
      ValidationError,
    );
    assert.deepEqual(await rt.tasks(s.id), [], "nothing was added");
    assert.equal((await rt.get(s.id)).version, 1);
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
    await assert.rejects(rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] }), /already exists/);
  } finally {
    await rt.close();
  }
});

Deno.test("claims take the oldest ready task; completing one makes its dependants ready; progress is done/total", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.setAgent(s.id, "x", { status: "working", progress: 0.9 });
    const { tasks } = await rt.addTasks(s.id, { tasks: plan });
    assert.deepEqual(tasks.map((t) => t.status), ["ready", "blocked", "blocked", "blocked"]);
    assert.equal((await rt.get(s.id)).progress, 0, "a plan's progress replaces the agents' mean");
    const first = await rt.claim(s.id, { agent: "x" });
    assert.equal(first?.id, "search");
    assert.equal(first?.holder, "x");
    assert.equal(first?.attempt, 1);
    assert.equal(first?.leaseUntil, "2026-01-01T00:01:00.000Z", "the default lease is 60 s");
    assert.equal(await rt.claim(s.id, { agent: "y" }), null);
    await rt.completeTask(s.id, "search", { agent: "x", result: { hits: 3 } });
    assert.deepEqual((await rt.tasks(s.id, { status: "ready" })).map((t) => t.id), [
      "read",
      "cite",
    ]);
    assert.equal((await rt.get(s.id)).progress, 0.25);
    const named = await rt.claim(s.id, { agent: "y", task: "cite", lease: "5m" });
    assert.equal(named?.id, "cite");
    await assert.rejects(
      rt.claim(s.id, { agent: "z", task: "cite" }),
      (e) => e instanceof TransitionError && /held by 'y'/.test(e.message),
    );
    await assert.rejects(rt.claim(s.id, { agent: "z", task: "write" }), /blocked, not ready/);
    await assert.rejects(rt.claim(s.id, { agent: "z", task: "ghost" }), NotFoundError);
    const done = (await rt.events(s.id)).find((e) => e.type === "task.done");
    assert.deepEqual((done?.data as { ready: string[] }).ready, ["read", "cite"]);
  } finally {
    await rt.close();
  }
});

Deno.test("only the holder may heartbeat, complete or fail a task (409 naming the holder)", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }, { id: "b", title: "B" }] });
    await rt.claim(s.id, { agent: "x", lease: "30s" });
    for (
      const call of [
        () => rt.heartbeat(s.id, "a", { agent: "y" }),
        () => rt.completeTask(s.id, "a", { agent: "y" }),
        () => rt.failTask(s.id, "a", { agent: "y", error: "no" }),
      ]
    ) {
      await assert.rejects(
        call(),
        (e) => e instanceof TransitionError && /held by 'x'/.test(e.message),
      );
    }
    await assert.rejects(rt.completeTask(s.id, "b", { agent: "x" }), /ready, not claimed/);
    clock.advance(20_000);
    const hb = await rt.heartbeat(s.id, "a", { agent: "x", lease: "1m" });
    assert.equal(hb.leaseUntil, "2026-01-01T00:01:20.000Z");
    clock.advance(50_000);
    assert.equal(await rt.runDue(), 0, "the extended lease has not passed");
    const failed = await rt.failTask(s.id, "a", { agent: "x", error: "source offline" });
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "source offline");
    assert.equal(failed.holder, undefined);
  } finally {
    await rt.close();
  }
});

Deno.test("a lapsed lease returns the task to ready; past maxAttempts it fails; a late holder is refused", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A", maxAttempts: 2 }] });
    await rt.claim(s.id, { agent: "x", lease: "10s" });
    clock.advance(10_001);
    await assert.rejects(
      rt.completeTask(s.id, "a", { agent: "x" }),
      /expired/,
      "a lease that passed is refused even before the scheduler ran",
    );
    assert.equal(await rt.runDue(), 1);
    let [t] = await rt.tasks(s.id);
    assert.deepEqual([t.status, t.attempt, t.holder], ["ready", 1, undefined]);
    await rt.claim(s.id, { agent: "y", lease: "10s" });
    clock.advance(10_001);
    await rt.runDue();
    [t] = await rt.tasks(s.id);
    assert.deepEqual([t.status, t.attempt], ["failed", 2]);
    const types = (await rt.events(s.id)).map((e) => e.type);
    assert.deepEqual(types.filter((x) => x.startsWith("task.")), [
      "task.added",
      "task.claimed",
      "task.lease_expired",
      "task.claimed",
      "task.lease_expired",
      "task.failed",
    ]);
  } finally {
    await rt.close();
  }
});

Deno.test("a lease that passes while the process is down lapses after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const clock = new ManualClock();
  try {
    let rt = await createRuntime({ dataDir: dir, clock, tickMs: 0 });
    const s = await rt.create();
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
    await rt.claim(s.id, { agent: "x", lease: "1m" });
    await rt.close();
    clock.advance(120_000);
    rt = await createRuntime({ dataDir: dir, clock, tickMs: 0 });
    assert.equal(await rt.runDue(), 1);
    assert.equal((await rt.tasks(s.id))[0].status, "ready");
    assert.equal((await rt.claim(s.id, { agent: "y" }))?.holder, "y");
    await rt.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("200 agents claiming one plan at once: each task goes to exactly one agent", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const ids = Array.from({ length: 150 }, (_, i) => `t${i}`);
    await rt.addTasks(s.id, { tasks: ids.map((id) => ({ id, title: id })) });
    const claims = await Promise.all(
      Array.from({ length: 200 }, (_, i) => rt.claim(s.id, { agent: `agent-${i}` })),
    );
    const got = claims.filter((t): t is Task => t !== null);
    assert.equal(got.length, 150);
    assert.equal(new Set(got.map((t) => t.id)).size, 150, "no task given twice");
    const held = await rt.tasks(s.id, { status: "claimed" });
    assert.equal(held.length, 150);
    for (const t of got) assert.equal(held.find((h) => h.id === t.id)?.holder, t.holder);
  } finally {
    await rt.close();
  }
});

Deno.test("two runtimes on one KV claiming the same plan never give a task to two agents", async () => {
  await withTwoRuntimes(async (a, b) => {
    const s = await a.create();
    await a.addTasks(s.id, {
      tasks: Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, title: `T${i}` })),
    });
    const claims = await Promise.all(
      Array.from(
        { length: 60 },
        (_, i) => (i % 2 ? a : b).claim(s.id, { agent: `g${i}` }).catch((e) => e as Error),
      ),
    );
    const tasks = claims.filter((t): t is Task => t !== null && !(t instanceof Error));
    assert.equal(new Set(tasks.map((t) => t.id)).size, tasks.length, "no task acked twice");
    const held = await a.tasks(s.id, { status: "claimed" });
    assert.equal(held.length, tasks.length, "every acked claim is in the state, once");
    for (const t of tasks) assert.equal(held.find((h) => h.id === t.id)?.holder, t.holder);
  });
});

type Op =
  | { op: "claim"; agent: number }
  | { op: "complete"; agent: number; task: number }
  | { op: "fail"; agent: number; task: number }
  | { op: "heartbeat"; agent: number; task: number }
  | { op: "wait"; ms: number };

Deno.test("any sequence of task operations keeps one holder, respects deps and never re-runs done tasks", async () => {
  const ops = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant("claim" as const), agent: fc.nat(3) }),
      fc.record({ op: fc.constant("complete" as const), agent: fc.nat(3), task: fc.nat(5) }),
      fc.record({ op: fc.constant("fail" as const), agent: fc.nat(3), task: fc.nat(5) }),
      fc.record({ op: fc.constant("heartbeat" as const), agent: fc.nat(3), task: fc.nat(5) }),
      fc.record({ op: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
    ),
    { maxLength: 40 },
  );
  await fc.assert(
    fc.asyncProperty(ops, async (seq: Op[]) => {
      const clock = new ManualClock();
      const rt = await createRuntime({ memory: true, tickMs: 0, clock, kinds: [research] });
      try {
        const s = await rt.create("research");
        await rt.addTasks(s.id, {
          tasks: [
            { id: "t0", title: "0" },
            { id: "t1", title: "1", deps: ["t0"] },
            { id: "t2", title: "2", deps: ["t0"], maxAttempts: 1 },
            { id: "t3", title: "3", deps: ["t1", "t2"] },
            { id: "t4", title: "4" },
            { id: "t5", title: "5", deps: ["t4"] },
          ],
        });
        const doneOnce = new Set<string>();
        for (const o of seq) {
          const agent = `a${"agent" in o ? o.agent : 0}`;
          const task = "task" in o ? `t${o.task}` : "";
          try {
            if (o.op === "claim") {
              const t = await rt.claim(s.id, { agent, lease: "30s" });
              if (t) assert.ok(!doneOnce.has(t.id), `done task ${t.id} claimed again`);
            } else if (o.op === "complete") {
              await rt.completeTask(s.id, task, { agent });
              assert.ok(!doneOnce.has(task));
              doneOnce.add(task);
            } else if (o.op === "fail") await rt.failTask(s.id, task, { agent, error: "x" });
            else if (o.op === "heartbeat") await rt.heartbeat(s.id, task, { agent });
            else {
              clock.advance(o.ms);
              await rt.runDue();
            }
          } catch (e) {
            if (!(e instanceof TransitionError || e instanceof NotFoundError)) throw e;
          }
          const tasks = await rt.tasks(s.id);
          const byId = new Map(tasks.map((t) => [t.id, t]));
          for (const t of tasks) {
            assert.equal(
              t.status === "claimed",
              t.holder !== undefined,
              `${t.id}: holder iff claimed`,
            );
            assert.equal(t.status === "claimed", t.leaseUntil !== undefined);
            if (t.status !== "blocked") {
              for (const d of t.deps) {
                assert.equal(byId.get(d)?.status, "done", `${t.id} ran before ${d}`);
              }
            }
            if (doneOnce.has(t.id)) assert.equal(t.status, "done", `${t.id} left done`);
            assert.ok(t.attempt <= t.maxAttempts || t.status !== "claimed");
          }
          const done = tasks.filter((t) => t.status === "done").length;
          assert.equal((await rt.get(s.id)).progress, done / tasks.length);
        }
      } finally {
        await rt.close();
      }
    }),
    { numRuns: 40 },
  );
});

Deno.test("a record id of __proto__ is refused, whatever the record", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await assert.rejects(
      rt.addTasks(s.id, { tasks: [{ id: "__proto__", title: "x" }] }),
      ValidationError,
    );
    await assert.rejects(rt.schedule(s.id, { id: "__proto__", in: "1m" }), ValidationError);
    await assert.rejects(
      rt.requestApproval(s.id, { id: "__proto__", prompt: "?", deadline: "1m" }),
      ValidationError,
    );
    assert.deepEqual(await rt.coordination(s.id), {
      timers: {},
      approvals: {},
      tasks: {},
      conflicts: {},
    });
  } finally {
    await rt.close();
  }
});

Deno.test("500 tasks in one request commit in one atomic; 501 are refused with 400; 250 claims at once all commit", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const many = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `t${from + i}`, title: `T${from + i}` }));
    await assert.rejects(rt.addTasks(s.id, { tasks: many(0, 501) }), ValidationError);
    await rt.addTasks(s.id, { tasks: many(0, 500) });
    await rt.addTasks(s.id, { tasks: many(500, 500) });
    const claims = await Promise.all(
      Array.from({ length: 600 }, (_, i) => rt.claim(s.id, { agent: `g${i}` })),
    );
    assert.equal(new Set(claims.map((t) => t!.id)).size, 600);
    assert.equal((await rt.tasks(s.id, { status: "claimed" })).length, 600);
    assert.deepEqual(claims.slice(0, 3).map((t) => t!.id), ["t0", "t1", "t2"], "oldest first");
  } finally {
    await rt.close();
  }
});
