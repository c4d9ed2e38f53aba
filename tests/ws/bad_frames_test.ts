import assert from "node:assert/strict";
import { ManualClock } from "../../mod.ts";
import { Peer, serve, until } from "./_harness.ts";

Deno.test("bad frames get an error and the connection stays open", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id));
  const bad: [unknown, string, string?][] = [
    ["not json", "invalid"],
    ["[1,2", "invalid"],
    ["null", "invalid"],
    ['"ping"', "invalid"],
    [{ t: "dance" }, "invalid"],
    [{ t: "ping", extra: 1 }, "invalid"],
    [{ t: "action", id: "a1", name: 5 }, "invalid", "a1"],
    [{ t: "action", name: "x" }, "invalid"],
    [{ t: "patch", id: "p1", ops: "nope" }, "invalid", "p1"],
    [{ t: "agent", id: "g1", status: "ok", progress: 2 }, "invalid", "g1"],
    [{ t: "message", id: "m1", role: "user" }, "invalid", "m1"],
    [{ t: "result", id: "r1", data: 1 }, "invalid", "r1"],
    [{ t: "action", id: "x".repeat(200), name: "n" }, "invalid"],
    ["x".repeat(1024 * 1024 + 1), "too_large"],
  ];
  for (const [frame, code, id] of bad) {
    p.send(frame);
    const e = await p.next((f) => f.t === "error");
    assert.equal(e.code, code, `code for ${String(JSON.stringify(frame)).slice(0, 60)}`);
    assert.equal(e.id, id);
    assert.equal(typeof e.message, "string");
  }
  p.ws.send(new Uint8Array([1, 2, 3]));
  assert.equal((await p.next((f) => f.t === "error")).code, "invalid");
  await p.roundTrip();
  assert.equal(p.ws.readyState, WebSocket.OPEN);
  await p.close();
  await srv.close();
});

Deno.test("a flood gets rate_limited errors, then a close with 4029", async () => {
  const clock = new ManualClock(); // no refill while the flood lasts
  const srv = await serve({ runtime: { clock }, ws: { rate: 50, maxRefused: 10 } });
  const s = await srv.rt.create();
  const bystander = await Peer.open(srv.url(s.id));
  const p = await Peer.open(srv.url(s.id));
  for (let i = 0; i < 61; i++) p.send({ t: "ping" }); // 50 served, 10 refused, 1 too many
  const closed = await p.closed;
  assert.equal(closed.code, 4029);
  assert.equal(p.frames.filter((f) => f.t === "pong").length, 50);
  assert.equal(p.frames.filter((f) => f.code === "rate_limited").length, 10);
  await bystander.roundTrip();
  await bystander.close();
  await srv.close();
});

Deno.test("a client that keeps flooding is disconnected and others are still served", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock }, ws: { rate: 50, maxRefused: 10 } });
  const s = await srv.rt.create();
  const bystander = await Peer.open(srv.url(s.id));
  const p = await Peer.open(srv.url(s.id));
  for (let i = 0; i < 5_000; i++) p.send({ t: "ping" });
  // Frames sent after the server's close frame may reset the TCP connection,
  // so the flooder's own close code is not asserted here.
  await p.closed;
  await until(() => srv.route.hub.size === 1);
  await bystander.roundTrip();
  await bystander.close();
  await srv.close();
});

Deno.test("a rate-limited command is answered with its id; the bucket refills over time", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock }, ws: { rate: 2, maxRefused: 10 } });
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id));
  p.send({ t: "ping" });
  p.send({ t: "ping" });
  p.send({ t: "patch", id: "late", ops: [{ op: "add", path: "/a", value: 1 }] });
  const e = await p.next((f) => f.t === "error");
  assert.deepEqual([e.code, e.id], ["rate_limited", "late"]);
  clock.advance(1_000);
  await p.roundTrip();
  await p.close();
  await srv.close();
});
