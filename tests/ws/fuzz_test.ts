import assert from "node:assert/strict";
import fc from "fast-check";
import { z } from "zod";
import { defineSession } from "../../mod.ts";
import { Peer, serve, until } from "./_harness.ts";

const notes = defineSession({
  kind: "notes",
  state: z.object({ notes: z.array(z.string()).default([]) }),
  actions: {
    note: {
      args: z.object({ text: z.string().max(100) }),
      run(ctx, { text }) {
        ctx.state.notes.push(text);
        return ctx.state.notes.length;
      },
    },
  },
});

const id = fc.oneof(fc.string({ maxLength: 10 }), fc.constant(""), fc.integer(), fc.constant(null));
const junk = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const path = fc.oneof(fc.constantFrom("", "/a", "/notes/-", "/notes/0", "/x/y"), fc.string());
const op = fc.record({
  op: fc.oneof(fc.constantFrom("add", "remove", "replace", "move", "copy", "test"), fc.string()),
  path,
  value: maybe(junk),
  from: maybe(path),
}, { requiredKeys: ["op"] });

/** Frames of every type, well-formed or not. */
const frame = fc.oneof(
  fc.record({
    t: fc.constant("action"),
    id,
    name: fc.constantFrom("note", "nope", ""),
    args: junk,
  }),
  fc.record({
    t: fc.constant("action"),
    id: fc.uuid(),
    name: fc.constant("note"),
    args: fc.record({ text: fc.string({ maxLength: 20 }) }),
  }),
  fc.record({
    t: fc.constant("patch"),
    id,
    ops: fc.array(op, { maxLength: 4 }),
    ifVersion: maybe(junk),
  }),
  fc.record({
    t: fc.constant("agent"),
    id,
    status: junk,
    progress: maybe(fc.double()),
    task: maybe(junk),
  }),
  fc.record({ t: fc.constant("message"), id, role: junk, content: junk, meta: maybe(junk) }),
  fc.record({ t: fc.constant("result"), id, key: junk, data: junk, partial: maybe(junk) }),
  // SPEC §9 frames, well-formed or not.
  fc.record({
    t: fc.constant("claim"),
    id,
    lease: maybe(fc.oneof(junk, fc.constantFrom("1s", "10m"))),
    task: maybe(junk),
  }),
  fc.record({
    t: fc.constantFrom("heartbeat", "complete", "fail"),
    id,
    task: fc.oneof(junk, fc.constantFrom("t1", "t2")),
    lease: maybe(junk),
    result: maybe(junk),
    error: maybe(junk),
  }),
  fc.record({
    t: fc.constant("approval"),
    id,
    prompt: junk,
    deadline: fc.oneof(junk, fc.constantFrom("30m", "1s")),
    options: maybe(junk),
    onDeadline: maybe(junk),
  }),
  fc.record({
    t: fc.constant("decide"),
    id,
    approval: fc.oneof(junk, fc.constantFrom("ap1", "__proto__")),
    option: fc.oneof(junk, fc.constantFrom("approve", "reject")),
    comment: maybe(junk),
  }),
  fc.record({
    t: fc.constant("timer"),
    id,
    in: maybe(fc.oneof(junk, fc.constantFrom("1s", "10m"))),
    at: maybe(junk),
    action: maybe(fc.constantFrom("note", "nope")),
    args: maybe(junk),
    data: maybe(junk),
  }),
  fc.record({
    t: fc.constant("conflict"),
    id,
    entity: junk,
    type: junk,
    severity: fc.oneof(junk, fc.constantFrom("low", "high")),
    findings: junk,
  }),
  fc.record({
    t: fc.constant("update"),
    id,
    name: maybe(junk),
    tags: maybe(junk),
    meta: maybe(junk),
  }),
  fc.record({
    t: fc.oneof(fc.constantFrom("ping", "pong", "welcome", "ack"), fc.string()),
    extra: maybe(junk),
  }),
  fc.dictionary(fc.string({ maxLength: 5 }), junk, { maxKeys: 4 }),
  junk,
).map((f) => JSON.stringify(f) ?? "undefined");

/** Malformed text: truncated JSON, random strings, deep nesting. */
const raw = fc.oneof(
  frame.map((s) => s.slice(0, Math.max(0, s.length - 1))),
  fc.string({ maxLength: 50 }),
  fc.integer({ min: 1, max: 5_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.constant(""),
);

Deno.test("fuzzed frames never crash or close a connection, and it keeps answering ping", async () => {
  const srv = await serve({
    runtime: { kinds: [notes] },
    ws: { rate: 1_000_000, maxInFlight: 100_000 },
  });
  const s = await srv.rt.create("notes");
  const fuzzed = await Peer.open(srv.url(s.id, { agent: "fuzzer" }));
  const other = await Peer.open(srv.url(s.id));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(frame, raw), { minLength: 1, maxLength: 20 }),
      async (frames) => {
        for (const f of frames) fuzzed.send(f);
        await fuzzed.roundTrip();
        assert.equal(fuzzed.ws.readyState, WebSocket.OPEN);
      },
    ),
    { numRuns: 150 },
  );
  await fuzzed.roundTrip();
  await other.roundTrip();
  const late = await Peer.open(srv.url(s.id));
  await late.roundTrip();
  const session = await srv.rt.get(s.id);
  assert.equal(session.status, "active");
  assert.ok(fuzzed.frames.some((f) => f.t === "ack"), "some fuzzed commands were valid");
  assert.ok(fuzzed.frames.some((f) => f.t === "error"), "some fuzzed frames were refused");
  assert.equal(fuzzed.frames.filter((f) => f.code === "internal").length, 0, "no unexpected error");
  await until(() => other.frames.some((f) => f.t === "event" && f.seq === session.version));
  const seqs = other.frames.filter((f) => f.t === "event").map((f) => f.seq);
  assert.deepEqual(
    seqs,
    Array.from({ length: session.version - 1 }, (_, i) => i + 2),
    "bystander saw every event",
  );
  for (const p of [fuzzed, other, late]) await p.close();
  await srv.close();
});
