import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { Peer, serve, until, wsUrl } from "./_harness.ts";

const add = (path: string, value: unknown) => [{ op: "add" as const, path, value }];

Deno.test("welcome carries the snapshot and the current seq", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: { n: 1 } });
  await srv.rt.patch(s.id, add("/m", 2));
  const p = await Peer.open(srv.url(s.id));
  const w = p.frames[0];
  assert.equal(w.t, "welcome");
  assert.equal(typeof w.conn, "string");
  assert.equal(w.seq, 2);
  assert.equal(w.replayed, undefined);
  assert.deepEqual(w.session.state, { n: 1, m: 2 });
  assert.equal(w.session.version, 2);
  await p.close();
  await srv.close();
});

Deno.test("unknown or invalid ids and a bad since are refused before the upgrade", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  const get = async (url: string) => {
    const res = await fetch(url.replace("ws:", "http:"), { headers: { upgrade: "websocket" } });
    const body = await res.json();
    return [res.status, body.error.code];
  };
  assert.deepEqual(await get(srv.url("nope")), [404, "not_found"]);
  assert.deepEqual(await get(srv.url("bad.id")), [400, "invalid"]);
  assert.deepEqual(await get(srv.url(s.id, { since: "-1" })), [400, "invalid"]);
  assert.deepEqual(await get(srv.url(s.id, { agent: "no spaces" })), [400, "invalid"]);
  const plain = await fetch(srv.url(s.id).replace("ws:", "http:"));
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
  await srv.close();
});

Deno.test("since replays the missed events, then welcomes with replayed and no state", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  for (let i = 0; i < 5; i++) await srv.rt.patch(s.id, add(`/k${i}`, i));
  const p = await Peer.open(srv.url(s.id, { since: 2 }));
  const events = p.frames.filter((f) => f.t === "event");
  assert.deepEqual(events.map((e) => e.seq), [3, 4, 5, 6]);
  assert.deepEqual(events[0].data.ops, add("/k1", 1));
  const w = p.frames[4];
  assert.equal(w.t, "welcome");
  assert.equal(w.replayed, 4);
  assert.equal(w.seq, 6);
  assert.equal(w.session.state, undefined);
  await p.close();
  await srv.close();
});

Deno.test("since equal to the version replays nothing; since ahead of it gets the snapshot", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: { a: 1 } });
  const same = await Peer.open(srv.url(s.id, { since: 1 }));
  assert.equal(same.frames[0].replayed, 0);
  const ahead = await Peer.open(srv.url(s.id, { since: 99 }));
  assert.deepEqual(ahead.frames[0].session.state, { a: 1 });
  assert.equal(ahead.frames[0].replayed, undefined);
  await same.close();
  await ahead.close();
  await srv.close();
});

Deno.test("a replay far behind maxReplay falls back to the snapshot", async () => {
  const srv = await serve({ ws: { maxReplay: 3 } });
  const s = await srv.rt.create("default", { state: {} });
  for (let i = 0; i < 5; i++) await srv.rt.patch(s.id, add(`/k${i}`, i));
  const p = await Peer.open(srv.url(s.id, { since: 1 }));
  assert.equal(p.frames[0].t, "welcome");
  assert.equal(p.frames[0].seq, 6);
  assert.equal(Object.keys(p.frames[0].session.state).length, 5);
  await p.close();
  await srv.close();
});

Deno.test("the seam between replay and live events has no gap and no duplicate", async () => {
  const srv = await serve({ ws: { maxLag: 100_000 } });
  const s = await srv.rt.create("default", { state: { items: [] } });
  for (let i = 0; i < 50; i++) await srv.rt.patch(s.id, add("/items/-", i));
  let written = 0;
  const writer = (async () => {
    for (; written < 300; written++) await srv.rt.patch(s.id, add("/items/-", 50 + written));
  })();
  await until(() => written >= 20);
  const peers = [1, 10, 40].map((since) => new Peer(srv.url(s.id, { since })));
  await writer;
  const version = (await srv.rt.get(s.id)).version;
  for (const [i, p] of peers.entries()) {
    const since = [1, 10, 40][i];
    await p.next((f) => f.t === "event" && f.seq === version);
    const seqs = p.frames.filter((f) => f.t === "event").map((f) => f.seq);
    assert.deepEqual(seqs, Array.from({ length: version - since }, (_, k) => since + 1 + k));
    const w = p.frames.find((f) => f.t === "welcome")!;
    assert.ok(w.seq >= since && w.seq <= version);
    await p.close();
  }
  await srv.close();
});

Deno.test("the app mounts the route and selects the bearer subprotocol", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0, token: "secret" });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, rt.app.fetch);
  const s = await rt.create();
  const url = wsUrl(server.addr.port, s.id);
  const p = await Peer.open(url, ["bearer.secret"]);
  assert.equal(p.ws.protocol, "bearer.secret");
  await p.close();
  const res = await fetch(url.replace("ws:", "http:"), { headers: { upgrade: "websocket" } });
  assert.equal(res.status, 401);
  await res.body?.cancel();
  const tokenRes = await rt.app.request(`/v1/sessions/${s.id}/tokens`, {
    method: "POST",
    headers: { Authorization: "Bearer secret", "content-type": "application/json" },
    body: JSON.stringify({ agent: "scout" }),
  });
  const { token } = await tokenRes.json();
  const agentPeer = await Peer.open(url, ["bearer." + token]);
  const presence = await agentPeer.next((f) => f.t === "presence");
  assert.deepEqual(presence.agents, ["scout"]);
  await agentPeer.close();
  await server.shutdown();
  await rt.close();
});
