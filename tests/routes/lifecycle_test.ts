import assert from "node:assert/strict";
import { call, withRuntime } from "./_fixtures.ts";

Deno.test("pause, resume, complete answer 200 with the session in its new status", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const paused = await call(rt, "POST", "/v1/sessions/s1/pause");
    assert.equal(paused.status, 200);
    assert.equal(paused.body.status, "paused");
    const resumed = await call(rt, "POST", "/v1/sessions/s1/resume", { body: {} });
    assert.equal(resumed.body.status, "active");
    const done = await call(rt, "POST", "/v1/sessions/s1/complete", {
      body: { report: { ok: true } },
    });
    assert.equal(done.status, 200);
    assert.equal(done.body.status, "completed");
    const events = await call(rt, "GET", "/v1/sessions/s1/events");
    const completed = events.body.events.find((e: { type: string }) => e.type === "completed");
    assert.deepEqual(completed.data.report, { ok: true });
  }));

Deno.test("fail {error} answers 200 with a failed session; without an error it is 400", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    assert.equal((await call(rt, "POST", "/v1/sessions/s1/fail", { body: {} })).status, 400);
    assert.equal(
      (await call(rt, "POST", "/v1/sessions/s1/fail", { body: { error: "" } })).status,
      400,
    );
    const res = await call(rt, "POST", "/v1/sessions/s1/fail", { body: { error: "boom" } });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.error, "boom");
  }));

Deno.test("an illegal transition is 409 naming the current status", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    await call(rt, "POST", "/v1/sessions/s1/pause");
    const again = await call(rt, "POST", "/v1/sessions/s1/pause");
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /paused/);
    assert.equal(again.body.error.details.status, "paused");
    await call(rt, "POST", "/v1/sessions/s1/complete");
    const resume = await call(rt, "POST", "/v1/sessions/s1/resume");
    assert.equal(resume.status, 409);
    assert.match(resume.body.error.message, /completed/);
  }));

Deno.test("lifecycle routes reject unknown body fields with 400 and missing sessions with 404", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    assert.equal((await call(rt, "POST", "/v1/sessions/s1/pause", { body: { x: 1 } })).status, 400);
    const missing = await call(rt, "POST", "/v1/sessions/nope/pause");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, "Session 'nope' not found");
  }));

Deno.test("POST …/fork answers 201 with a new session from the current state or a checkpoint", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 1 } } });
    const cp = await call(rt, "POST", "/v1/sessions/s1/checkpoints");
    await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 2 }],
    });
    const now = await call(rt, "POST", "/v1/sessions/s1/fork", { body: { id: "f1" } });
    assert.equal(now.status, 201);
    assert.equal(now.body.id, "f1");
    assert.deepEqual(now.body.state, { n: 2 });
    assert.equal(now.body.origin.session, "s1");
    const old = await call(rt, "POST", "/v1/sessions/s1/fork", {
      body: { checkpoint: cp.body.checkpoint },
    });
    assert.equal(old.status, 201);
    assert.deepEqual(old.body.state, { n: 1 });
    assert.equal(old.body.origin.checkpoint, cp.body.checkpoint);
    assert.equal(
      (await call(rt, "POST", "/v1/sessions/s1/fork", { body: { id: "f1" } })).status,
      409,
    );
    const noCp = await call(rt, "POST", "/v1/sessions/s1/fork", { body: { checkpoint: "nope" } });
    assert.equal(noCp.status, 404);
    assert.equal(
      (await call(rt, "POST", "/v1/sessions/s1/fork", { body: { id: "a/b" } })).status,
      400,
    );
  }));
