import assert from "node:assert/strict";
import { call, withRuntime } from "./_fixtures.ts";

Deno.test("GET …/events returns events after a seq, ascending, at most limit", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 0 } } });
    for (let i = 1; i <= 4; i++) {
      await call(rt, "PATCH", "/v1/sessions/s1/state", {
        body: [{ op: "replace", path: "/n", value: i }],
      });
    }
    const all = await call(rt, "GET", "/v1/sessions/s1/events");
    assert.deepEqual(all.body.events.map((e: { seq: number }) => e.seq), [1, 2, 3, 4, 5]);
    const page = await call(rt, "GET", "/v1/sessions/s1/events?after=2&limit=2");
    assert.deepEqual(page.body.events.map((e: { seq: number }) => e.seq), [3, 4]);
    for (const q of ["after=-1", "limit=0", "after=x", "bogus=1"]) {
      assert.equal((await call(rt, "GET", `/v1/sessions/s1/events?${q}`)).status, 400, q);
    }
    assert.equal((await call(rt, "GET", "/v1/sessions/nope/events")).status, 404);
  }));

Deno.test("POST …/messages answers 201; GET pages backwards and condensed says how many were left out", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    for (let i = 0; i < 5; i++) {
      const res = await call(rt, "POST", "/v1/sessions/s1/messages", {
        body: { role: "user", content: `m${i}` },
      });
      assert.equal(res.status, 201);
      assert.equal(typeof res.body.id, "string");
    }
    const last2 = await call(rt, "GET", "/v1/sessions/s1/messages?limit=2");
    assert.deepEqual(last2.body.messages.map((m: { content: string }) => m.content), ["m3", "m4"]);
    const before = last2.body.messages[0].seq;
    const earlier = await call(rt, "GET", `/v1/sessions/s1/messages?before=${before}&limit=2`);
    assert.deepEqual(earlier.body.messages.map((m: { content: string }) => m.content), [
      "m1",
      "m2",
    ]);
    const condensed = await call(rt, "GET", "/v1/sessions/s1/messages?condensed=3");
    assert.equal(condensed.body.omitted, 2);
    assert.deepEqual(condensed.body.messages.map((m: { content: string }) => m.content), [
      "m2",
      "m3",
      "m4",
    ]);
    const bad = await call(rt, "POST", "/v1/sessions/s1/messages", {
      body: { content: "no role" },
    });
    assert.equal(bad.status, 400);
    assert.equal((await call(rt, "GET", "/v1/sessions/s1/messages?condensed=0")).status, 400);
  }));

Deno.test("POST …/results answers 201; GET filters by agent and key and keeps the latest", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const post = (agent: string, key: string, data: unknown) =>
      call(rt, "POST", "/v1/sessions/s1/results", { body: { agent, key, data } });
    assert.equal((await post("a", "k", 1)).status, 201);
    await post("a", "k", 2);
    await post("b", "k", 3);
    const byA = await call(rt, "GET", "/v1/sessions/s1/results?agent=a");
    assert.deepEqual(byA.body.results.map((r: { data: number }) => r.data), [1, 2]);
    const latest = await call(rt, "GET", "/v1/sessions/s1/results?key=k&latest=true");
    assert.deepEqual(latest.body.results.map((r: { data: number }) => r.data).sort(), [2, 3]);
    assert.equal((await call(rt, "GET", "/v1/sessions/s1/results?latest=maybe")).status, 400);
    assert.equal(
      (await call(rt, "POST", "/v1/sessions/s1/results", { body: { data: 1 } })).status,
      400,
    );
  }));

Deno.test("checkpoints: POST answers 201, GET lists them, restore brings the state back", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 1 } } });
    const cp = await call(rt, "POST", "/v1/sessions/s1/checkpoints", { body: { label: "before" } });
    assert.equal(cp.status, 201);
    await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 9 }],
    });
    const list = await call(rt, "GET", "/v1/sessions/s1/checkpoints");
    assert.equal(list.body.checkpoints[0].id, cp.body.checkpoint);
    assert.equal(list.body.checkpoints[0].label, "before");
    const restored = await call(
      rt,
      "POST",
      `/v1/sessions/s1/checkpoints/${cp.body.checkpoint}/restore`,
    );
    assert.equal(restored.status, 200);
    assert.deepEqual(restored.body.state, { n: 1 });
    const missing = await call(rt, "POST", "/v1/sessions/s1/checkpoints/nope/restore");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, "Checkpoint 'nope' not found in session 's1'");
    assert.equal((await call(rt, "POST", "/v1/sessions/s1/checkpoints/a.b/restore")).status, 400);
  }));
