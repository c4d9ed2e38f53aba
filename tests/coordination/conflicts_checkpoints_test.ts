import assert from "node:assert/strict";
import { TooLargeError, TransitionError, ValidationError } from "../../src/errors.ts";
import { clockRuntime } from "./_fixtures.ts";

const finding = (agent: string, claim: string) => ({ agent, claim });

Deno.test("a conflict is recorded, listed, resolved once (409 after), and counted while open", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const c = await rt.recordConflict(s.id, {
      entity: "ACME",
      type: "founding_year",
      severity: "high",
      strategy: "prefer primary sources",
      findings: [finding("a", "1999"), finding("b", "2001")],
    });
    await assert.rejects(
      rt.recordConflict(s.id, {
        entity: "x",
        type: "t",
        severity: "low",
        findings: [finding("a", "1")],
      }),
      ValidationError,
      "two findings at least",
    );
    assert.equal((await rt.get(s.id)).openConflicts, 1);
    assert.deepEqual((await rt.conflicts(s.id, { resolved: false })).map((x) => x.id), [c.id]);
    const r = await rt.resolveConflict(s.id, c.id, { resolution: { year: 1999 }, by: "carol" });
    assert.equal(r.status, "resolved");
    await assert.rejects(
      rt.resolveConflict(s.id, c.id, { resolution: "again" }),
      (e) => e instanceof TransitionError && /already resolved by carol/.test(e.message),
    );
    assert.equal((await rt.get(s.id)).openConflicts, 0);
    assert.deepEqual(await rt.conflicts(s.id, { resolved: false }), []);
    assert.equal((await rt.conflicts(s.id, { resolved: true })).length, 1);
  } finally {
    await rt.close();
  }
});

Deno.test("detectConflicts runs on each new result and records a conflict in the same commit", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.addResult(s.id, { key: "profile", data: { founded: "1999" } }, { agent: "a" });
    assert.deepEqual(await rt.conflicts(s.id), []);
    const { version } = await rt.addResult(s.id, { key: "wiki", data: { founded: "2001" } }, {
      agent: "b",
    });
    const [c] = await rt.conflicts(s.id);
    assert.equal(c.entity, "founded");
    assert.deepEqual(c.findings.map((f) => f.claim), ["1999", "2001"]);
    const events = await rt.events(s.id);
    const recorded = events.find((e) => e.type === "conflict.recorded")!;
    const result = events.filter((e) => e.type === "result").at(-1)!;
    assert.ok(recorded.seq > result.seq && recorded.seq <= version, "one command, one commit");
  } finally {
    await rt.close();
  }
});

Deno.test("a checkpoint and its restore cover the whole session: state, agents, phase, tasks, approvals, conflicts, timers", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.setAgent(s.id, "scout", { status: "searching", progress: 0.3 });
    await rt.update(s.id, { phase: "planning" });
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }, { id: "b", title: "B" }] });
    await rt.requestApproval(s.id, { id: "go", prompt: "go?", deadline: "1h" });
    await rt.recordConflict(s.id, {
      entity: "e",
      type: "t",
      severity: "low",
      findings: [finding("a", "x"), finding("b", "y")],
    });
    await rt.action(s.id, "later", { in: "10m", by: 1 });
    const before = await rt.coordination(s.id);
    const { checkpoint } = await rt.checkpoint(s.id, "before work");

    await rt.setAgent(s.id, "scout", { status: "done", progress: 1 });
    await rt.update(s.id, { phase: "executing" });
    await rt.claim(s.id, { agent: "scout" });
    await rt.decide(s.id, "go", { option: "approve" });
    await rt.resolveConflict(s.id, (await rt.conflicts(s.id))[0].id, { resolution: "x" });
    await rt.cancelTimer(s.id, (await rt.timers(s.id))[0].id);
    await rt.patch(s.id, [{ op: "replace", path: "/n", value: 42 }]);

    const restored = await rt.restore(s.id, checkpoint);
    assert.equal(restored.state.n, 0);
    assert.equal(restored.agents.scout.status, "searching");
    assert.equal(restored.phase, "planning");
    assert.equal(restored.pendingApprovals, 1);
    assert.equal(restored.openConflicts, 1);
    assert.deepEqual(await rt.coordination(s.id), before);
    clock.advance(600_000);
    assert.equal(await rt.runDue(), 1, "the restored timer is back on the scheduler");
    assert.equal((await rt.get(s.id)).state.n, 1);
  } finally {
    await rt.close();
  }
});

Deno.test("a fork copies the coordination records, from now or from a checkpoint", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    await rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
    const { checkpoint } = await rt.checkpoint(s.id);
    await rt.addTasks(s.id, { tasks: [{ id: "b", title: "B" }] });
    const now = await rt.fork(s.id);
    const then = await rt.fork(s.id, { checkpoint });
    assert.deepEqual((await rt.tasks(now.id)).map((t) => t.id), ["a", "b"]);
    assert.deepEqual((await rt.tasks(then.id)).map((t) => t.id), ["a"]);
    assert.equal((await rt.claim(then.id, { agent: "x" }))?.id, "a", "the fork's plan works");
    assert.equal(
      (await rt.tasks(s.id, { status: "claimed" })).length,
      0,
      "the source is untouched",
    );
  } finally {
    await rt.close();
  }
});

Deno.test("update changes name, tags, meta (merged) and phase after create, with an event", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research", {
      name: "first",
      tags: ["a"],
      meta: { owner: "ann", keep: { x: 1, y: 2 } },
    });
    const u = await rt.update(s.id, {
      name: "ACME deep dive",
      tags: ["b", "b", "c"],
      meta: { owner: null, keep: { y: null, z: 3 }, team: "r&d" },
      phase: "executing",
    });
    assert.equal(u.name, "ACME deep dive");
    assert.deepEqual(u.tags, ["b", "c"]);
    assert.deepEqual(u.meta, { keep: { x: 1, z: 3 }, team: "r&d" });
    assert.equal(u.phase, "executing");
    const noName = await rt.update(s.id, { name: null });
    assert.equal(noName.name, undefined);
    await assert.rejects(rt.update(s.id, {}), ValidationError);
    await assert.rejects(rt.update(s.id, { meta: { big: "x".repeat(20_000) } }), TooLargeError);
    assert.deepEqual((await rt.events(s.id)).map((e) => e.type), ["created", "updated", "updated"]);
    await rt.flush();
    const found = await rt.list({ tag: "c" });
    assert.deepEqual(found.items.map((x) => x.id), [s.id], "the new tags are listed at once");
  } finally {
    await rt.close();
  }
});
