import assert from "node:assert/strict";
import { z } from "zod";
import { defineSession, ManualClock } from "../../mod.ts";
import { type Frame, Peer, serve } from "./_harness.ts";

const findings = [
  { agent: "a", claim: "founded 1999" },
  { agent: "b", claim: "founded 2001" },
];

const counter = defineSession({
  kind: "counter",
  state: z.object({ n: z.number().default(0) }),
  actions: {
    inc: {
      args: z.object({ by: z.number().int() }),
      run(ctx, { by }) {
        ctx.state.n += by;
      },
    },
  },
});

/** Sends `frame` and waits for its ack or error. */
async function ask(p: Peer, frame: Frame): Promise<Frame> {
  p.send(frame);
  return await p.next((f) => (f.t === "ack" || f.t === "error") && f.id === frame.id);
}

/** The ack of `frame`, failing with the error frame when there is one. */
async function ok(p: Peer, frame: Frame): Promise<Frame> {
  const answer = await ask(p, frame);
  assert.equal(answer.t, "ack", JSON.stringify(answer));
  return answer;
}

/** The error answering `frame`, after which the connection still answers a ping. */
async function refused(p: Peer, frame: Frame, code: string): Promise<Frame> {
  const answer = await ask(p, frame);
  assert.equal(answer.t, "error", JSON.stringify(answer));
  assert.equal(answer.code, code, JSON.stringify(answer));
  await p.roundTrip();
  return answer;
}

Deno.test("claim, heartbeat, complete and fail frames are acked with {task}, after their events", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  await srv.rt.addTasks(s.id, {
    tasks: [{ id: "a", title: "A" }, { id: "b", title: "B", deps: ["a"] }, { id: "c", title: "C" }],
  });
  const p = await Peer.open(srv.url(s.id, { agent: "ann" }));
  const claimed = await ok(p, { t: "claim", id: "k1", lease: "5m" });
  assert.equal(claimed.result.task.id, "a");
  assert.equal(claimed.result.task.holder, "ann");
  const event = p.frames.find((f) => f.t === "event" && f.type === "task.claimed");
  assert.ok(event && p.frames.indexOf(event) < p.frames.indexOf(claimed), "event before ack");
  assert.equal(claimed.version, event.seq, "the ack carries the seq of its own event");
  const beat = await ok(p, { t: "heartbeat", id: "k2", task: "a", lease: "10m" });
  assert.equal(beat.result.task.id, "a");
  const done = await ok(p, { t: "complete", id: "k3", task: "a", result: { n: 1 } });
  assert.equal(done.result.task.status, "done");
  assert.deepEqual(done.result.task.result, { n: 1 });
  const named = await ok(p, { t: "claim", id: "k4", task: "c" });
  assert.equal(named.result.task.id, "c");
  const failed = await ok(p, { t: "fail", id: "k5", task: "c", error: "no access" });
  assert.equal(failed.result.task.status, "failed");
  const next = await ok(p, { t: "claim", id: "k6" });
  assert.equal(next.result.task.id, "b");
  const none = await ok(p, { t: "claim", id: "k7" });
  assert.deepEqual(none.result, { task: null });
  assert.equal(none.version, (await srv.rt.get(s.id)).version);
  await p.close();
  await srv.close();
});

Deno.test("task frames without an agent, or from an agent that does not hold the task, get errors and the socket stays open", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  await srv.rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
  const anonymous = await Peer.open(srv.url(s.id));
  for (
    const frame of [
      { t: "claim", id: "n1" },
      { t: "heartbeat", id: "n2", task: "a" },
      { t: "complete", id: "n3", task: "a" },
      { t: "fail", id: "n4", task: "a", error: "x" },
    ]
  ) {
    const e = await refused(anonymous, frame, "invalid");
    assert.match(e.message, /need an agent name/);
  }
  const ann = await Peer.open(srv.url(s.id, { agent: "ann" }));
  const bob = await Peer.open(srv.url(s.id, { agent: "bob" }));
  await ok(ann, { t: "claim", id: "c1" });
  for (
    const frame of [
      { t: "heartbeat", id: "b1", task: "a" },
      { t: "complete", id: "b2", task: "a" },
      { t: "fail", id: "b3", task: "a", error: "x" },
      { t: "claim", id: "b4", task: "a" },
    ]
  ) {
    const e = await refused(bob, frame, "invalid_transition");
    assert.match(e.message, /held by 'ann'/);
  }
  await refused(bob, { t: "heartbeat", id: "b5", task: "ghost" }, "not_found");
  await refused(bob, { t: "claim", id: "b6", lease: "forever" }, "invalid");
  await refused(bob, { t: "heartbeat", id: "b7" }, "invalid");
  await refused(bob, { t: "fail", id: "b8", task: "a" }, "invalid");
  await refused(bob, { t: "claim", id: "b9", agent: "ann" }, "invalid");
  for (const p of [anonymous, ann, bob]) await p.close();
  await srv.close();
});

Deno.test("approval and decide frames are acked with {approval}; the decider is the connection's agent", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const agent = await Peer.open(srv.url(s.id, { agent: "planner" }));
  const person = await Peer.open(srv.url(s.id, { agent: "alice" }));
  const asked = await ok(agent, {
    t: "approval",
    id: "q1",
    prompt: "Publish?",
    options: ["publish", "hold"],
    deadline: "30m",
    onDeadline: "hold",
    data: { draft: 3 },
  });
  const approval = asked.result.approval;
  assert.equal(approval.status, "pending");
  assert.equal(approval.agent, "planner");
  assert.deepEqual(approval.data, { draft: 3 });
  const decided = await ok(person, {
    t: "decide",
    id: "d1",
    approval: approval.id,
    option: "publish",
    comment: "go",
  });
  assert.equal(decided.result.approval.status, "decided");
  assert.equal(decided.result.approval.by, "alice");
  assert.equal(decided.result.approval.comment, "go");
  const seen = await agent.next((f) => f.t === "event" && f.type === "approval.decided");
  assert.deepEqual(seen.data.approval, decided.result.approval);
  const again = await refused(
    person,
    { t: "decide", id: "d2", approval: approval.id, option: "hold" },
    "invalid_transition",
  );
  assert.match(again.message, /already decided: 'publish' by alice/);
  await ok(agent, { t: "approval", id: "q2", prompt: "More?", deadline: "1h" });
  const other = (await srv.rt.approvals(s.id, { status: "pending" }))[0];
  await refused(person, { t: "decide", id: "d3", approval: other.id, option: "maybe" }, "invalid");
  await refused(
    person,
    { t: "decide", id: "d4", approval: "ghost", option: "approve" },
    "not_found",
  );
  await refused(agent, { t: "approval", id: "q3", prompt: "p" }, "invalid");
  await refused(agent, { t: "approval", id: "q4", prompt: "p", deadline: "later" }, "invalid");
  await refused(
    agent,
    { t: "approval", id: "q5", prompt: "p", deadline: "1h", onDeadline: "x" },
    "invalid",
  );
  await agent.close();
  await person.close();
  await srv.close();
});

Deno.test("a decide frame after the deadline gets the 409 'expired' error", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock } });
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id, { agent: "alice" }));
  const asked = await ok(p, { t: "approval", id: "q", prompt: "p", deadline: "10m" });
  clock.advance(11 * 60_000);
  const e = await refused(
    p,
    { t: "decide", id: "d", approval: asked.result.approval.id, option: "approve" },
    "invalid_transition",
  );
  assert.match(e.message, /expired/);
  await p.close();
  await srv.close();
});

Deno.test("timer frames are acked with {timer} and fire on runDue; bad timers get errors", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock, kinds: [counter] } });
  const s = await srv.rt.create("counter");
  const p = await Peer.open(srv.url(s.id, { agent: "bot" }));
  const run = await ok(p, { t: "timer", id: "t1", in: "1m", action: "inc", args: { by: 2 } });
  assert.equal(run.result.timer.action, "inc");
  assert.equal(run.result.timer.agent, "bot");
  assert.equal(run.result.timer.due, new Date(clock.now() + 60_000).toISOString());
  const remind = await ok(p, {
    t: "timer",
    id: "t2",
    at: clock.now() + 120_000,
    data: { say: "hi" },
  });
  assert.deepEqual(remind.result.timer.data, { say: "hi" });
  clock.advance(120_000);
  await srv.rt.runDue();
  const fired = await p.next((f) => f.t === "event" && f.type === "timer.fired" && f.data.data);
  assert.deepEqual(fired.data.data, { say: "hi" });
  assert.equal((await srv.rt.get(s.id)).state.n, 2);
  assert.deepEqual(await srv.rt.timers(s.id), []);
  await refused(p, { t: "timer", id: "t3" }, "invalid");
  await refused(p, { t: "timer", id: "t4", in: "1m", at: 0 }, "invalid");
  await refused(p, { t: "timer", id: "t5", in: "1m", action: "inc", patch: [] }, "invalid");
  await refused(p, { t: "timer", id: "t6", in: "1m", action: "nope" }, "not_found");
  await refused(p, { t: "timer", id: "t7", in: "1m", when: "now" }, "invalid");
  await p.close();
  await srv.close();
});

Deno.test("conflict and update frames are acked; bad ones get errors and the socket stays open", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id, { agent: "judge" }));
  const rec = await ok(p, {
    t: "conflict",
    id: "c1",
    entity: "ACME",
    type: "founding_year",
    findings,
    severity: "medium",
    strategy: "ask",
  });
  assert.equal(rec.result.conflict.status, "open");
  assert.equal(rec.result.conflict.entity, "ACME");
  await refused(p, {
    t: "conflict",
    id: "c2",
    entity: "e",
    type: "t",
    findings: [findings[0]],
    severity: "low",
  }, "invalid");
  await refused(
    p,
    { t: "conflict", id: "c3", entity: "e", type: "t", findings, severity: "dire" },
    "invalid",
  );
  const upd = await ok(p, {
    t: "update",
    id: "u1",
    name: "ACME",
    tags: ["acme"],
    meta: { a: 1 },
    phase: "review",
  });
  assert.equal(upd.result, undefined);
  const event = p.frames.find((f) => f.t === "event" && f.type === "updated");
  assert.ok(event);
  assert.equal(upd.version, event.seq);
  const after = await srv.rt.get(s.id);
  assert.equal(after.name, "ACME");
  assert.deepEqual(after.tags, ["acme"]);
  assert.equal(after.phase, "review");
  await refused(p, { t: "update", id: "u2" }, "invalid");
  await refused(p, { t: "update", id: "u3", status: "paused" }, "invalid");
  await p.close();
  await srv.close();
});

Deno.test("a resent coordination frame id is applied once and answers with the first result", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id, { agent: "ann" }));
  const frame = { t: "approval", id: "once", prompt: "p", deadline: "1h" };
  const first = await ok(p, frame);
  const second = await Peer.open(srv.url(s.id, { agent: "ann" }));
  const again = await ok(second, frame);
  assert.deepEqual(again.result, first.result);
  assert.equal((await srv.rt.approvals(s.id)).length, 1);
  await p.close();
  await second.close();
  await srv.close();
});

Deno.test("the snapshot welcome carries the session's coordination records; a replay welcome and a session without records do not", async () => {
  const srv = await serve();
  const bare = await srv.rt.create();
  const plain = await Peer.open(srv.url(bare.id));
  assert.equal(plain.frames[0].coordination, undefined);

  const s = await srv.rt.create();
  await srv.rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }] });
  await srv.rt.schedule(s.id, { in: "1h", data: 1 });
  await srv.rt.requestApproval(s.id, { prompt: "p", deadline: "1h" });
  await srv.rt.recordConflict(s.id, { entity: "e", type: "t", findings, severity: "low" });
  const p = await Peer.open(srv.url(s.id));
  const welcome = p.frames[0];
  assert.equal(welcome.t, "welcome");
  assert.equal(welcome.replayed, undefined);
  assert.deepEqual(welcome.coordination, await srv.rt.coordination(s.id));

  const resumed = await Peer.open(srv.url(s.id, { since: 2 }));
  const replayWelcome = resumed.frames.find((f) => f.t === "welcome")!;
  assert.equal(replayWelcome.replayed, welcome.seq - 2);
  assert.equal(replayWelcome.coordination, undefined);
  for (const peer of [plain, p, resumed]) await peer.close();
  await srv.close();
});
