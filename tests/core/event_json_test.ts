/** An event's JSON is made once and never leaks into copies or its own serialization. */
import assert from "node:assert/strict";
import { eventJson, type SessionEvent } from "../../src/session.ts";

const event = (): SessionEvent => ({
  sessionId: "s1",
  seq: 3,
  type: "patch",
  data: { ops: [{ op: "replace", path: "/n", value: 1 }] },
  at: "2026-01-01T00:00:00.000Z",
});

Deno.test("eventJson is the event's JSON, and the cached text stays out of JSON, keys and spreads", () => {
  const e = event();
  const json = eventJson(e);
  assert.equal(json, JSON.stringify(event()));
  assert.equal(eventJson(e), json);
  assert.equal(JSON.stringify(e), json, "the cache is not serialized");
  assert.deepEqual(Object.keys(e), Object.keys(event()));
  const copy = { ...e, seq: 4 };
  assert.equal(eventJson(copy), JSON.stringify({ ...event(), seq: 4 }), "a copy gets its own text");
  assert.deepEqual(structuredClone(e), event());
});

Deno.test("eventJson works on a frozen event", () => {
  const e = Object.freeze(event());
  assert.equal(eventJson(e), JSON.stringify(event()));
});
