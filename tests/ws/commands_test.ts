import assert from "node:assert/strict";
import { z } from "zod";
import { defineSession } from "../../mod.ts";
import { Peer, serve } from "./_harness.ts";
import { internals } from "../../actors/runtime.ts";

const counter = defineSession({
  kind: "counter",
  state: z.object({ n: z.number().default(0) }),
  actions: {
    inc: {
      args: z.object({ by: z.number().int() }),
      run(ctx, { by }) {
        ctx.state.n += by;
        return { n: ctx.state.n };
      },
    },
  },
});

Deno.test("pipelined commands are acked in order, each after its own event", async () => {
  const srv = await serve({ runtime: { kinds: [counter] } });
  const s = await srv.rt.create("counter");
  const p = await Peer.open(srv.url(s.id, { agent: "bot" }));
  for (let i = 0; i < 100; i++) p.send({ t: "action", id: `c${i}`, name: "inc", args: { by: 1 } });
  await p.next((f) => f.t === "ack" && f.id === "c99");
  const acks = p.frames.filter((f) => f.t === "ack");
  assert.deepEqual(acks.map((a) => a.id), Array.from({ length: 100 }, (_, i) => `c${i}`));
  assert.deepEqual(acks.map((a) => a.version), Array.from({ length: 100 }, (_, i) => i + 2));
  assert.deepEqual(acks.map((a) => a.result.n), Array.from({ length: 100 }, (_, i) => i + 1));
  for (const a of acks) {
    const eventAt = p.frames.findIndex((f) => f.t === "event" && f.seq === a.version);
    assert.ok(eventAt >= 0 && eventAt < p.frames.indexOf(a), `event ${a.version} precedes its ack`);
    assert.equal(p.frames[eventAt].agent, "bot");
  }
  assert.equal((await srv.rt.get(s.id)).state.n, 100);
  await p.close();
  await srv.close();
});

Deno.test("a resent command id is not applied twice and gets the same ack", async () => {
  const srv = await serve({ runtime: { kinds: [counter] } });
  const s = await srv.rt.create("counter");
  const p = await Peer.open(srv.url(s.id));
  p.send({ t: "action", id: "once", name: "inc", args: { by: 5 } });
  const first = await p.next((f) => f.t === "ack");
  const second = new Peer(srv.url(s.id));
  await second.next((f) => f.t === "welcome");
  second.send({ t: "action", id: "once", name: "inc", args: { by: 5 } });
  const again = await second.next((f) => f.t === "ack");
  assert.deepEqual(again, first);
  const after = await srv.rt.get(s.id);
  assert.equal(after.version, first.version);
  assert.equal(after.state.n, 5);
  await p.close();
  await second.close();
  await srv.close();
});

Deno.test("patch, agent, message and result frames are acked with their versions", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: { a: 1 } });
  const p = await Peer.open(srv.url(s.id, { agent: "scout" }));
  p.send({ t: "patch", id: "p1", ops: [{ op: "replace", path: "/a", value: 2 }], ifVersion: 1 });
  p.send({ t: "agent", id: "g1", status: "working", progress: 0.5, task: "read" });
  p.send({ t: "message", id: "m1", role: "assistant", content: "hello", meta: { k: 1 } });
  p.send({ t: "result", id: "r1", key: "summary", data: { ok: true }, partial: true });
  const acks = [];
  for (const id of ["p1", "g1", "m1", "r1"]) {
    acks.push(await p.next((f) => f.t === "ack" && f.id === id));
  }
  assert.deepEqual(acks.map((a) => a.version), [2, 3, 4, 5]);
  assert.equal(typeof acks[2].result.id, "string");
  const session = await srv.rt.get(s.id);
  assert.deepEqual(session.state, { a: 2 });
  assert.equal(session.agents.scout.status, "working");
  assert.equal(session.agents.scout.progress, 0.5);
  const [msg] = await srv.rt.messages(s.id);
  assert.equal(msg.content, "hello");
  const [res] = await srv.rt.results(s.id);
  assert.deepEqual([res.key, res.agent, res.partial], ["summary", "scout", true]);
  await p.close();
  await srv.close();
});

Deno.test("a failing command gets an error with its id and the connection stays open", async () => {
  const srv = await serve({ runtime: { kinds: [counter] } });
  const s = await srv.rt.create("default", { state: { a: 1 } });
  const anon = await Peer.open(srv.url(s.id));
  anon.send({ t: "patch", id: "stale", ops: [{ op: "add", path: "/b", value: 1 }], ifVersion: 7 });
  anon.send({ t: "patch", id: "test", ops: [{ op: "test", path: "/a", value: 2 }] });
  anon.send({ t: "patch", id: "bad", ops: [{ op: "jump", path: "/a" }] });
  anon.send({ t: "action", id: "none", name: "nope", args: {} });
  anon.send({ t: "agent", id: "who", status: "idle" });
  const codes: Record<string, string> = {};
  while (Object.keys(codes).length < 5) {
    const e = await anon.next((f) => f.t === "error");
    codes[e.id] = e.code;
  }
  assert.deepEqual(codes, {
    stale: "precondition_failed",
    test: "conflict",
    bad: "invalid",
    none: "not_found",
    who: "invalid",
  });
  await anon.roundTrip();
  assert.equal((await srv.rt.get(s.id)).version, 1);
  await anon.close();
  await srv.close();
});

Deno.test("metrics count connections and frames", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const before = internals(srv.rt).metrics.wsMessages;
  const p = await Peer.open(srv.url(s.id));
  assert.equal(internals(srv.rt).metrics.wsConnections, 1);
  await p.roundTrip();
  await p.roundTrip();
  assert.equal(internals(srv.rt).metrics.wsMessages - before, 2);
  await p.close();
  await srv.close();
  assert.equal(internals(srv.rt).metrics.wsConnections, 0);
});

Deno.test("a patch on a socket whose session was completed meanwhile is refused as the REST API refuses it", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: { a: 1 } });
  const p = await Peer.open(srv.url(s.id));
  await srv.rt.complete(s.id);
  await srv.rt.flush(); // the drainer retires the hot state: the session is now served from SQL
  p.send({ t: "patch", id: "late", ops: [{ op: "add", path: "/b", value: 2 }] });
  const e = await p.next((f) => f.t === "error");
  assert.deepEqual([e.id, e.code], ["late", "invalid_transition"]);
  assert.match(e.message, /completed/);
  await assert.rejects(srv.rt.patch(s.id, [{ op: "add", path: "/b", value: 2 }]), /completed/);
  await p.close();
  await srv.close();
});

Deno.test("an event frame carries the event without its session id, live and replayed alike", async () => {
  const srv = await serve({ runtime: { kinds: [counter] } });
  const s = await srv.rt.create("counter");
  const live = await Peer.open(srv.url(s.id, { agent: "bot" }));
  live.send({ t: "action", id: "c1", name: "inc", args: { by: 2 } });
  const ack = await live.next((f) => f.t === "ack");
  const frame = live.frames.find((f) => f.t === "event" && f.seq === ack.version)!;
  const [stored] = await srv.rt.events(s.id, { after: ack.version - 1, limit: 1 });
  const { sessionId, ...rest } = stored;
  assert.equal(sessionId, s.id);
  assert.deepEqual(frame, { t: "event", ...rest });
  assert.deepEqual(Object.keys(frame), ["t", "seq", "type", "data", "at", "agent"]);
  await live.close();

  const late = await Peer.open(srv.url(s.id, { since: 1 })); // replayed before the welcome
  assert.deepEqual(late.frames.find((f) => f.t === "event" && f.seq === ack.version), frame);
  await late.close();
  await srv.close();
});
