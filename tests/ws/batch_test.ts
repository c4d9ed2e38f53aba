import assert from "node:assert/strict";
import { ManualClock } from "../../mod.ts";
import { BATCH_MAX } from "../../routes/ws_frames.ts";
import { type Frame, Peer, serve } from "./_harness.ts";

const patch = (id: string, path: string, value: unknown) => ({
  t: "patch",
  id,
  ops: [{ op: "add", path, value }],
});

/** Every ack comes after the event that carries its version. */
function assertEventsFirst(frames: Frame[]): void {
  for (const a of frames.filter((f) => f.t === "ack")) {
    const at = frames.findIndex((f) => f.t === "event" && f.seq === a.version);
    assert.ok(at >= 0 && at < frames.indexOf(a), `event ${a.version} precedes ack ${a.id}`);
  }
}

Deno.test("a batch message is handled frame by frame, in order, each with its own answer", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  const p = await Peer.open(srv.url(s.id));
  p.send([
    patch("p1", "/a", 1),
    { t: "patch", id: "p2", ops: "nope" },
    patch("p3", "/b", 2),
    { t: "ping" },
    [patch("p4", "/c", 3)], // a batch inside a batch is not a frame
    patch("p5", "/a", 9),
  ]);
  const ack5 = await p.next((f) => f.t === "ack" && f.id === "p5");
  const answers = p.frames.filter((f) => f.t === "ack" || f.t === "error" || f.t === "pong");
  assert.deepEqual(
    answers.map((f) => [f.t, f.id, f.code]),
    [
      ["error", "p2", "invalid"],
      ["pong", undefined, undefined],
      ["error", undefined, "invalid"],
      ["ack", "p1", undefined],
      ["ack", "p3", undefined],
      ["ack", "p5", undefined],
    ],
  );
  assert.deepEqual(answers.filter((f) => f.t === "ack").map((f) => f.version), [2, 3, 4]);
  assert.equal(ack5.version, 4);
  assertEventsFirst(p.frames);
  assert.deepEqual((await srv.rt.get(s.id)).state, { a: 9, b: 2 });
  assert.deepEqual(
    p.messages.filter((n) => n > 0),
    [],
    "no ?batch=1: every answer is a lone frame",
  );
  await p.close();
  await srv.close();
});

Deno.test("an empty, oversized or malformed batch is refused whole and applies nothing", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  const p = await Peer.open(srv.url(s.id));
  const tooMany = Array.from({ length: BATCH_MAX + 1 }, (_, i) => patch(`p${i}`, "/n", i));
  for (const message of ["[]", JSON.stringify(tooMany), '[{"t":"ping"}']) {
    p.send(message);
    const e = await p.next((f) => f.t === "error");
    assert.equal(e.code, "invalid");
    assert.equal(e.id, undefined);
  }
  p.send(`[${JSON.stringify(patch("big", "/x", "y".repeat(1024 * 1024)))}]`);
  assert.equal((await p.next((f) => f.t === "error")).code, "too_large");
  await p.roundTrip();
  assert.equal(p.frames.filter((f) => f.t === "error").length, 4);
  assert.equal(p.frames.filter((f) => f.t === "ack" || f.t === "event").length, 0);
  const now = await srv.rt.get(s.id);
  assert.equal(now.version, 1);
  assert.deepEqual(now.state, {});
  // The largest batch allowed is served whole.
  p.send(tooMany.slice(0, BATCH_MAX));
  const last = await p.next((f) => f.t === "ack" && f.id === `p${BATCH_MAX - 1}`);
  assert.equal(last.version, 1 + BATCH_MAX);
  assert.equal(p.frames.filter((f) => f.t === "ack").length, BATCH_MAX);
  await p.close();
  await srv.close();
});

Deno.test("each frame of a batch takes its own token and its own slot in flight", async () => {
  const clock = new ManualClock(); // no refill while the test runs
  const srv = await serve({ runtime: { clock }, ws: { rate: 50, maxRefused: 10, maxInFlight: 3 } });
  const s = await srv.rt.create("default", { state: {} });
  const p = await Peer.open(srv.url(s.id, { batch: 1 }));
  p.send(Array.from({ length: 5 }, (_, i) => patch(`p${i}`, `/k${i}`, i)));
  await p.next((f) => f.t === "ack" && f.id === "p2");
  const refused = p.frames.filter((f) => f.code === "rate_limited");
  assert.deepEqual(refused.map((f) => f.id), ["p3", "p4"], "3 in flight at most");
  assert.deepEqual(Object.keys((await srv.rt.get(s.id)).state), ["k0", "k1", "k2"]);
  // 5 tokens are spent: 45 pings are served, 10 refused, and the next one is a flood.
  p.send(Array.from({ length: 56 }, () => ({ t: "ping" })));
  const closed = await p.closed;
  assert.equal(closed.code, 4029);
  assert.equal(p.frames.filter((f) => f.t === "pong").length, 45);
  assert.equal(
    p.frames.filter((f) => f.code === "rate_limited").length,
    12,
    "the refusals queued before the close still went out",
  );
  await srv.close();
});

Deno.test("?batch=1 sends the frames that are ready together as one array, in order", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  const batched = await Peer.open(srv.url(s.id, { batch: 1 }));
  const plain = await Peer.open(srv.url(s.id));
  batched.send(Array.from({ length: 50 }, (_, i) => patch(`p${i}`, `/k${i}`, i)));
  await batched.next((f) => f.t === "ack" && f.id === "p49");
  await plain.next((f) => f.t === "event" && f.seq === 51);

  const acks = batched.frames.filter((f) => f.t === "ack");
  assert.deepEqual(acks.map((f) => f.id), Array.from({ length: 50 }, (_, i) => `p${i}`));
  const seqs = (frames: Frame[]) => frames.filter((f) => f.t === "event").map((f) => f.seq);
  const all = Array.from({ length: 50 }, (_, i) => i + 2);
  assert.deepEqual(seqs(batched.frames), all);
  assert.deepEqual(seqs(plain.frames), all);
  assertEventsFirst(batched.frames);
  // 100 frames came in fewer messages, each array at least 2 frames long.
  const arrays = batched.messages.filter((n) => n > 0);
  assert.ok(arrays.length > 0 && arrays.every((n) => n >= 2), `arrays: ${arrays}`);
  assert.ok(batched.messages.length < batched.frames.length, "fewer messages than frames");
  assert.deepEqual(plain.messages.filter((n) => n > 0), [], "a plain socket gets lone frames");
  await batched.close();
  await plain.close();
  await srv.close();
});

Deno.test("a bad ?batch is refused before the upgrade", async () => {
  const srv = await serve();
  const s = await srv.rt.create();
  for (const batch of ["2", "yes", ""]) {
    const res = await fetch(srv.url(s.id, { batch }).replace("ws:", "http:"), {
      headers: { upgrade: "websocket" },
    });
    assert.equal(res.status, 400, `batch=${batch}`);
    assert.equal((await res.json()).error.code, "invalid");
  }
  await srv.close();
});
