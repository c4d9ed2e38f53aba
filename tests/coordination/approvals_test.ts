import assert from "node:assert/strict";
import { NotFoundError, TransitionError, ValidationError } from "../../src/errors.ts";
import { clockRuntime } from "./_fixtures.ts";

Deno.test("an approval is decided once: 400 for an option not offered, 409 naming the first decision", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const a = await rt.requestApproval(s.id, { prompt: "Run the plan?", deadline: "30m" });
    assert.deepEqual(a.options, ["approve", "reject"]);
    assert.equal(a.status, "pending");
    assert.equal(a.deadline, "2026-01-01T00:30:00.000Z");
    assert.equal((await rt.get(s.id)).pendingApprovals, 1);
    await assert.rejects(rt.decide(s.id, a.id, { option: "maybe" }), ValidationError);
    const d = await rt.decide(s.id, a.id, { option: "reject", by: "alice", comment: "too wide" });
    assert.equal(d.status, "decided");
    assert.equal(d.option, "reject");
    assert.equal(d.by, "alice");
    await assert.rejects(
      rt.decide(s.id, a.id, { option: "approve", by: "bob" }),
      (e) => e instanceof TransitionError && /already decided: 'reject' by alice/.test(e.message),
    );
    await assert.rejects(rt.decide(s.id, "nope", { option: "approve" }), NotFoundError);
    assert.equal((await rt.get(s.id)).pendingApprovals, 0);
    assert.deepEqual((await rt.approvals(s.id, { status: "decided" })).map((x) => x.id), [a.id]);
    assert.deepEqual(await rt.approvals(s.id, { status: "pending" }), []);
  } finally {
    await rt.close();
  }
});

Deno.test("at its deadline an approval expires, or is decided with onDeadline by 'deadline'; late decisions are 409", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const plain = await rt.requestApproval(s.id, { prompt: "A?", deadline: "1m" });
    const auto = await rt.requestApproval(s.id, {
      prompt: "B?",
      deadline: new Date(clock.now() + 60_000).toISOString(),
      options: ["go", "stop"],
      onDeadline: "go",
    });
    await assert.rejects(
      rt.requestApproval(s.id, { prompt: "C?", deadline: "1m", onDeadline: "other" }),
      ValidationError,
    );
    clock.advance(60_001);
    await assert.rejects(
      rt.decide(s.id, plain.id, { option: "approve" }),
      (e) => e instanceof TransitionError && /expired/.test(e.message),
      "a decision after the deadline is 409 even before the scheduler ran",
    );
    assert.equal(await rt.runDue(), 2);
    const byId = Object.fromEntries((await rt.approvals(s.id)).map((x) => [x.id, x]));
    assert.equal(byId[plain.id].status, "expired");
    assert.equal(byId[plain.id].reason, "deadline");
    assert.equal(byId[auto.id].status, "decided");
    assert.equal(byId[auto.id].option, "go");
    assert.equal(byId[auto.id].by, "deadline");
    assert.equal((await rt.get(s.id)).pendingApprovals, 0);
    const types = (await rt.events(s.id)).map((e) => e.type);
    assert.ok(types.includes("approval.expired") && types.includes("approval.decided"));
  } finally {
    await rt.close();
  }
});

Deno.test("the kind's onDecision runs in the turn of the decision and of the expiry", async () => {
  const { rt, clock } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const { result: first } = await rt.action(s.id, "ask", { prompt: "go?" });
    const { result: second } = await rt.action(s.id, "ask", { prompt: "late?" });
    const d = await rt.decide(s.id, first as string, { option: "approve", by: "alice" });
    const after = await rt.get(s.id);
    assert.deepEqual(after.state.log, [`${first}:decided:approve`]);
    assert.equal(after.version, (await rt.events(s.id)).at(-1)!.seq);
    assert.equal(d.status, "decided");
    assert.equal((await rt.timers(s.id)).length, 1, "the hook scheduled a timer in the same turn");
    clock.advance(600_001);
    await rt.runDue();
    const log = (await rt.get(s.id)).state.log as string[];
    assert.ok(log.includes(`${second}:expired:-`), JSON.stringify(log));
    assert.equal((await rt.get(s.id)).state.n, 100, "the hook's timer fired too");
  } finally {
    await rt.close();
  }
});

Deno.test("a plan behind an approval: approve releases the tasks, reject drops them", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const held = await rt.addTasks(s.id, {
      tasks: [{ id: "a", title: "A" }, { id: "b", title: "B", deps: ["a"] }],
      approval: { prompt: "Approve the plan?", deadline: "1h" },
    });
    assert.deepEqual(held.tasks.map((t) => t.status), ["blocked", "blocked"]);
    assert.equal(
      await rt.claim(s.id, { agent: "x" }),
      null,
      "nothing is ready before the decision",
    );
    await rt.decide(s.id, held.approval!.id, { option: "approve" });
    assert.deepEqual((await rt.tasks(s.id)).map((t) => [t.id, t.status, t.gate]), [
      ["a", "ready", undefined],
      ["b", "blocked", undefined],
    ]);
    const dropped = await rt.addTasks(s.id, {
      tasks: [{ id: "c", title: "C" }],
      approval: { id: "plan-2", prompt: "And this?", deadline: "1h" },
    });
    assert.equal(dropped.approval!.id, "plan-2");
    await rt.decide(s.id, "plan-2", { option: "reject" });
    assert.deepEqual((await rt.tasks(s.id)).map((t) => t.id), ["a", "b"]);
  } finally {
    await rt.close();
  }
});

Deno.test("a resent command id answers with its first record, however large", async () => {
  const { rt } = await clockRuntime();
  try {
    const s = await rt.create("research");
    const prompt = "Is this long enough? ".repeat(60);
    const first = await rt.requestApproval(s.id, { prompt, deadline: "1h" }, { id: "ask-1" });
    const again = await rt.requestApproval(s.id, { prompt, deadline: "1h" }, { id: "ask-1" });
    assert.deepEqual(again, first);
    const tasks = Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, title: `Task ${i}` }));
    const plan = await rt.addTasks(s.id, { tasks, approval: { prompt, deadline: "1h" } }, {
      id: "plan-1",
    });
    assert.deepEqual(await rt.addTasks(s.id, { tasks }, { id: "plan-1" }), plan);
    assert.equal((await rt.approvals(s.id)).length, 2, "applied once each");
  } finally {
    await rt.close();
  }
});
