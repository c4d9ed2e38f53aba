import assert from "node:assert/strict";
import { z } from "zod";
import {
  type ApprovalRequest,
  type ConflictRequest,
  connect,
  DenizenClient,
  type TimerRequest,
  type Timers,
  type WelcomeFrame,
} from "../../client.ts";
import { defineSession, ManualClock, type Runtime } from "../../mod.ts";
import type { ApprovalInput, ConflictInput, TimerInput } from "../../src/coordination/model.ts";
import { Proxy, serve, until, wsUrl } from "./_harness.ts";

const MINUTE = 60_000;
const findings = [
  { agent: "a", claim: "founded 1999" },
  { agent: "b", result: "r2", claim: "founded 2001" },
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

/** Waits until `client` has applied every event the session has committed. */
async function caughtUp(client: DenizenClient, rt: Runtime, id: string): Promise<void> {
  const { version } = await rt.get(id);
  await until(() => client.version >= version);
}

/** Decides approval `aid` of session `id` over HTTP, as a person would. */
async function decideOverHttp(
  rt: Runtime,
  id: string,
  aid: string,
  option: string,
  by: string,
): Promise<number> {
  const res = await rt.app.request(`/v1/sessions/${id}/approvals/${aid}/decision`, {
    method: "POST",
    body: JSON.stringify({ option, by }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("the client's request types match the server's input schemas", () => {
  type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
  const approval: Same<ApprovalRequest, Omit<ApprovalInput, "id">> = true;
  const conflict: Same<ConflictRequest, Omit<ConflictInput, "id">> = true;
  const timer: Same<Omit<TimerRequest, "patch">, Omit<TimerInput, "id" | "patch">> = true;
  assert.ok(approval && conflict && timer);
});

Deno.test("typed coordination methods resolve with their acks' records", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock, kinds: [counter] } });
  const s = await srv.rt.create("counter");
  await srv.rt.addTasks(s.id, { tasks: [{ id: "a", title: "A" }, { id: "b", title: "B" }] });
  const client = await connect(srv.url(s.id), { agent: "ann", staleMs: 0 });
  const claimed = await client.claim({ lease: "5m" });
  assert.equal(claimed.result?.task?.id, "a");
  assert.equal(
    (await client.heartbeat("a", { lease: "10m" })).result?.task.leaseUntil,
    new Date(clock.now() + 10 * MINUTE).toISOString(),
  );
  assert.equal((await client.complete("a", { pages: 2 })).result?.task.status, "done");
  assert.equal((await client.claim({ task: "b" })).result?.task?.id, "b");
  assert.equal(
    (await client.failTask("b", "blocked by paywall")).result?.task.error,
    "blocked by paywall",
  );
  assert.deepEqual((await client.claim()).result, { task: null });
  const asked = await client.approval({
    prompt: "Ship?",
    deadline: "1h",
    options: ["ship", "hold"],
  });
  const decided = await client.decide(asked.result!.approval.id, "ship", "fine");
  assert.equal(decided.result?.approval.by, "ann");
  assert.equal(decided.result?.approval.comment, "fine");
  const timer = await client.timer({ in: "1m", action: "inc", args: { by: 3 } });
  assert.equal(timer.result?.timer.action, "inc");
  const conflict = await client.conflict({
    entity: "ACME",
    type: "year",
    findings,
    severity: "low",
  });
  assert.equal(conflict.result?.conflict.status, "open");
  await client.update({ name: "ACME", phase: "review" });
  assert.equal((await srv.rt.get(s.id)).phase, "review");
  await assert.rejects(
    client.heartbeat("a"),
    (e: Error & { code?: string }) => e.code === "invalid_transition",
  );
  const once = await client.timer({ in: "5m" }, { id: "fixed" });
  const twice = await client.timer({ in: "5m" }, { id: "fixed" });
  assert.deepEqual(twice.result, once.result);
  await client.close();
  await srv.close();
});

Deno.test("the client's coordination mirror equals rt.coordination after commands, HTTP calls, due timers, lapsed leases, expiries and a restore", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock, kinds: [counter] } });
  const rt = srv.rt;
  const s = await rt.create("counter");
  await rt.addTasks(s.id, { tasks: [{ id: "pre", title: "Before anyone connected" }] });
  const ann = await connect(srv.url(s.id), { agent: "ann", staleMs: 0 });
  assert.deepEqual(ann.coordination, await rt.coordination(s.id), "the welcome's records");

  await ann.timer({ in: "1m", action: "inc", args: { by: 1 } });
  await ann.timer({ in: "2m", data: "stretch" });
  await rt.schedule(s.id, { id: "constructor", in: "30m", data: "an id like any other" });
  const doomed = await ann.timer({ in: "30m" });
  await rt.cancelTimer(s.id, doomed.result!.timer.id);
  await ann.conflict({ entity: "ACME", type: "year", findings, severity: "high" });
  const settled = await ann.conflict({ entity: "ACME", type: "hq", findings, severity: "low" });
  await rt.resolveConflict(s.id, settled.result!.conflict.id, { resolution: "Berlin", by: "bob" });
  await rt.addTasks(s.id, {
    tasks: [
      { id: "a", title: "A" },
      { id: "b", title: "B", deps: ["a"] },
      { id: "c", title: "C", maxAttempts: 1 },
      { id: "d", title: "D", maxAttempts: 2 },
    ],
  });
  await rt.addTasks(s.id, {
    tasks: [{ id: "g1", title: "G1" }, { id: "g2", title: "G2", deps: ["g1", "b"] }],
    approval: { id: "plan", prompt: "Run the plan?", deadline: "1h" },
  });
  await rt.addTasks(s.id, {
    tasks: [{ id: "x", title: "X" }],
    approval: { id: "extra", prompt: "Also this?", deadline: "1h" },
  });
  clock.advance(1_000); // derived changes carry their own time
  await ann.claim({ task: "pre" });
  await ann.complete("pre", { ok: true });
  await ann.claim({ task: "a" });
  await ann.heartbeat("a", { lease: "10m" });
  await ann.complete("a", 1);
  await ann.claim({ task: "c", lease: "1m" });
  await ann.claim({ task: "d", lease: "1m" });
  assert.equal(await decideOverHttp(rt, s.id, "plan", "approve", "alice"), 200);
  await ann.decide("extra", "reject");
  await ann.approval({ prompt: "Lapses", deadline: "5m" });
  await ann.approval({ prompt: "Defaults", deadline: "5m", onDeadline: "approve" });
  await ann.update({ phase: "executing" });
  await caughtUp(ann, rt, s.id);
  assert.deepEqual(ann.coordination, await rt.coordination(s.id), "after commands");

  clock.advance(5 * MINUTE + 1);
  await rt.runDue();
  await caughtUp(ann, rt, s.id);
  const fired = await rt.coordination(s.id);
  assert.deepEqual(ann.coordination, fired, "after timers, leases and deadlines came due");
  assert.deepEqual(Object.keys(fired.timers), ["constructor"]);
  assert.equal(fired.tasks.c.status, "failed");
  assert.equal(fired.tasks.d.status, "ready");

  const cp = await rt.checkpoint(s.id, "mid");
  await ann.claim({ task: "b" });
  await ann.timer({ in: "1h" });
  await rt.restore(s.id, cp.checkpoint);
  await caughtUp(ann, rt, s.id);
  assert.deepEqual(ann.coordination, await rt.coordination(s.id), "after a restore");
  assert.deepEqual(ann.coordination, fired);

  const fresh = await connect(srv.url(s.id), { staleMs: 0 });
  assert.deepEqual(fresh.coordination, ann.coordination, "a snapshot agrees with the events");
  await fresh.close();
  await ann.close();
  await srv.close();
});

Deno.test("when the session completes, the mirror drops its timers and expires its pending approvals as the server does", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const client = await connect(srv.url(s.id), { agent: "ann", staleMs: 0 });
  await client.timer({ in: "1h" });
  await client.approval({ prompt: "p", deadline: "1h" });
  await srv.rt.complete(s.id);
  await caughtUp(client, srv.rt, s.id);
  const server = await srv.rt.coordination(s.id);
  assert.deepEqual(client.coordination, server);
  assert.deepEqual(server.timers, {});
  assert.ok(Object.values(server.approvals).every((a) => a.status === "expired"));
  await client.close();
  await srv.close();
});

Deno.test("waitForDecision resolves when a person decides over HTTP", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const client = await connect(srv.url(s.id), { agent: "planner", staleMs: 0 });
  const asked = await client.approval({ prompt: "Publish?", deadline: "1h" });
  const id = asked.result!.approval.id;
  const waiting = client.waitForDecision(id);
  assert.equal(await decideOverHttp(srv.rt, s.id, id, "approve", "alice"), 200);
  const decided = await waiting;
  assert.equal(decided.status, "decided");
  assert.equal(decided.option, "approve");
  assert.equal(decided.by, "alice");
  await client.close();
  await srv.close();
});

Deno.test("waitForDecision resolves at once for an approval already decided or expired, and waits for one not yet requested", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock } });
  const s = await srv.rt.create();
  const client = await connect(srv.url(s.id), { agent: "planner", staleMs: 0 });
  const asked = await client.approval({ prompt: "p", deadline: "1h" });
  await client.decide(asked.result!.approval.id, "reject");
  assert.equal((await client.waitForDecision(asked.result!.approval.id)).option, "reject");
  const lapsing = await client.approval({ prompt: "p", deadline: "1m" });
  clock.advance(2 * MINUTE);
  await srv.rt.runDue();
  await caughtUp(client, srv.rt, s.id);
  assert.equal((await client.waitForDecision(lapsing.result!.approval.id)).status, "expired");

  const later = client.waitForDecision("later");
  await srv.rt.requestApproval(s.id, { id: "later", prompt: "p", deadline: "1h" });
  await srv.rt.decide(s.id, "later", { option: "approve", by: "alice" });
  assert.equal((await later).by, "alice");
  await client.close();
  await srv.close();
});

/** Timers that run only when told to. */
class FakeTimers implements Timers {
  readonly #due = new Map<number, () => void>();
  #next = 1;
  setTimeout(fn: () => void): unknown {
    const id = this.#next++;
    this.#due.set(id, fn);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  /** Runs every pending callback once. */
  fire(): void {
    const due = [...this.#due.values()];
    this.#due.clear();
    for (const fn of due) fn();
  }
}

Deno.test("waitForDecision survives a reconnect: a decision made while the agent was cut off arrives with the replay", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const proxy = new Proxy(srv.port);
  const timers = new FakeTimers();
  const client = new DenizenClient(wsUrl(proxy.port, s.id), {
    agent: "planner",
    staleMs: 0,
    timers,
  });
  const welcomes: WelcomeFrame[] = [];
  client.on("welcome", (w) => welcomes.push(w));
  await client.ready();
  const asked = await client.approval({ prompt: "Publish?", deadline: "1h" });
  const id = asked.result!.approval.id;
  let decided = false;
  const waiting = client.waitForDecision(id).then((a) => {
    decided = true;
    return a;
  });
  await proxy.cut();
  await until(() => !client.connected);
  assert.equal(await decideOverHttp(srv.rt, s.id, id, "approve", "alice"), 200);
  assert.equal(decided, false, "nothing reaches a client that is cut off");
  timers.fire(); // reconnect now
  const approval = await waiting;
  assert.equal(approval.by, "alice");
  assert.equal(welcomes.length, 2);
  assert.notEqual(welcomes[1].replayed, undefined, "resumed with since");
  assert.deepEqual(client.coordination, await srv.rt.coordination(s.id));
  await client.close();
  await proxy.close();
  await srv.close();
});

Deno.test("waitForDecision rejects when its signal aborts or the client closes", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const client = await connect(srv.url(s.id), { agent: "planner", staleMs: 0 });
  const asked = await client.approval({ prompt: "p", deadline: "1h" });
  const id = asked.result!.approval.id;
  const abort = new AbortController();
  const aborted = client.waitForDecision(id, { signal: abort.signal });
  abort.abort(new Error("gave up"));
  await assert.rejects(aborted, /gave up/);
  await assert.rejects(client.waitForDecision(id, { signal: abort.signal }), /gave up/);
  const pending = assert.rejects(
    client.waitForDecision(id),
    (e: Error & { code?: string }) => e.code === "closed",
  );
  await client.close();
  await pending;
  await srv.close();
});
