import assert from "node:assert/strict";
import { ManualClock } from "../../mod.ts";
import { Peer, serve, until } from "./_harness.ts";

Deno.test("presence lists agents as they connect and leave", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const watcher = await Peer.open(srv.url(s.id));
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, []);
  const a = await Peer.open(srv.url(s.id, { agent: "alpha" }));
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, ["alpha"]);
  assert.deepEqual((await a.next((f) => f.t === "presence")).agents, ["alpha"]);
  const b = await Peer.open(srv.url(s.id, { agent: "beta" }));
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, ["alpha", "beta"]);
  const a2 = await Peer.open(srv.url(s.id, { agent: "alpha" }));
  assert.deepEqual((await a2.next((f) => f.t === "presence")).agents, ["alpha", "beta"]);
  await a.close();
  await b.close();
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, ["alpha"]);
  assert.deepEqual(srv.route.hub.agents(s.id), ["alpha"]);
  await a2.close();
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, []);
  await watcher.close();
  await srv.close();
});

Deno.test("ping is answered with pong", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id));
  for (let i = 0; i < 3; i++) await p.roundTrip();
  await p.close();
  await srv.close();
});

Deno.test("a silent connection is pinged after 60 s and closed after 5 min, leaving presence", async () => {
  const clock = new ManualClock();
  const srv = await serve({ runtime: { clock }, ws: { sweepMs: 0 } });
  const s = await srv.rt.create();
  const watcher = await Peer.open(srv.url(s.id));
  const quiet = await Peer.open(srv.url(s.id, { agent: "quiet" }));
  await watcher.next((f) => f.t === "presence" && f.agents.includes("quiet"));

  clock.advance(59_000);
  srv.route.hub.tick();
  await watcher.roundTrip(); // the watcher speaks; the quiet one does not
  clock.advance(1_000);
  srv.route.hub.tick();
  await quiet.next((f) => f.t === "ping");
  assert.equal(watcher.frames.some((f) => f.t === "ping"), false);

  clock.advance(30_000);
  srv.route.hub.tick();
  assert.equal(
    quiet.frames.filter((f) => f.t === "ping").length,
    1,
    "one ping per minute of silence",
  );

  clock.advance(210_000);
  await watcher.roundTrip();
  srv.route.hub.tick();
  const closed = await quiet.closed;
  assert.equal(closed.code, 4000);
  assert.deepEqual((await watcher.next((f) => f.t === "presence")).agents, []);
  assert.equal(srv.route.hub.size, 1);
  await watcher.close();
  await until(() => srv.route.hub.size === 0);
  await srv.close();
});

Deno.test("the heartbeat sweep runs on its own timer while connections are open", async () => {
  const srv = await serve({ ws: { sweepMs: 10, pingAfterMs: 20, closeAfterMs: 60 } });
  const s = await srv.rt.create();
  const p = await Peer.open(srv.url(s.id));
  await p.next((f) => f.t === "ping");
  assert.equal((await p.closed).code, 4000);
  await srv.close();
});
