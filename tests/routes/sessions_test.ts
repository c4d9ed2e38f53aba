import assert from "node:assert/strict";
import { call, withRuntime } from "./_fixtures.ts";

Deno.test("POST /v1/sessions creates a session and answers 201 with it", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "POST", "/v1/sessions", {
      body: { id: "s1", name: "demo", state: { a: 1 }, tags: ["x"], meta: { m: true } },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.id, "s1");
    assert.equal(res.body.status, "active");
    assert.deepEqual(res.body.state, { a: 1 });
    assert.equal(res.body.version, 1);
  }));

Deno.test("POST /v1/sessions with a taken id is 409", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const res = await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    assert.equal(res.status, 409);
    assert.match(res.body.error.message, /Session 's1' already exists/);
  }));

Deno.test("POST /v1/sessions rejects unknown fields, bad ids, non-objects and bad JSON with 400", () =>
  withRuntime(async (rt) => {
    const extra = await call(rt, "POST", "/v1/sessions", { body: { id: "s1", bogus: 1 } });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.error.code, "invalid");
    assert.ok(Array.isArray(extra.body.error.details), "zod issues are in details");
    assert.equal(extra.body.error.details[0].code, "unrecognized_keys");
    for (const body of [{ id: "../etc" }, { id: "a".repeat(129) }, [1], null, 42, "str"]) {
      const res = await call(rt, "POST", "/v1/sessions", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const bad = await call(rt, "POST", "/v1/sessions", { body: "{not json" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.message, "Body is not valid JSON");
  }));

Deno.test("POST /v1/sessions with an unknown kind is 404 naming the kind", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "POST", "/v1/sessions", { body: { kind: "nope" } });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.message, "Kind 'nope' not found");
  }));

Deno.test("POST /v1/sessions with a TTL past any valid date is 400, not 500", () =>
  withRuntime(async (rt) => {
    for (const active of [1e300, "99999999999999999d"]) {
      const res = await call(rt, "POST", "/v1/sessions", { body: { ttl: { active } } });
      assert.equal(res.status, 400);
    }
  }));

Deno.test("GET /v1/sessions filters and pages with limit and cursor", () =>
  withRuntime(async (rt) => {
    for (let i = 0; i < 5; i++) {
      await call(rt, "POST", "/v1/sessions", { body: { id: `s${i}`, tags: i % 2 ? ["odd"] : [] } });
    }
    await call(rt, "POST", "/v1/sessions/s0/pause");
    const odd = await call(rt, "GET", "/v1/sessions?tag=odd");
    assert.deepEqual(odd.body.items.map((s: { id: string }) => s.id).sort(), ["s1", "s3"]);
    const paused = await call(rt, "GET", "/v1/sessions?status=paused");
    assert.deepEqual(paused.body.items.map((s: { id: string }) => s.id), ["s0"]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await call(rt, "GET", `/v1/sessions?limit=2${q}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen.sort(), ["s0", "s1", "s2", "s3", "s4"]);
  }));

Deno.test("GET /v1/sessions rejects limit over 500, bad dates, unknown params and bad cursors with 400", () =>
  withRuntime(async (rt) => {
    for (
      const q of [
        "limit=501",
        "limit=0",
        "limit=x",
        "createdAfter=yesterday",
        "bogus=1",
        "cursor=zzz",
        "status=happy",
      ]
    ) {
      const res = await call(rt, "GET", `/v1/sessions?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error.code, "invalid");
    }
  }));

Deno.test("GET /v1/sessions/:id sets an ETag and answers 304 to a matching If-None-Match", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const res = await call(rt, "GET", "/v1/sessions/s1");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("ETag"), '"1"');
    const same = await call(rt, "GET", "/v1/sessions/s1", { headers: { "If-None-Match": '"1"' } });
    assert.equal(same.status, 304);
    assert.equal(same.body, null);
    const stale = await call(rt, "GET", "/v1/sessions/s1", { headers: { "If-None-Match": '"0"' } });
    assert.equal(stale.status, 200);
  }));

Deno.test("GET /v1/sessions/:id of a missing session is 404 'Session 'x' not found'; a bad id is 400", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "GET", "/v1/sessions/nope");
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, {
      error: { code: "not_found", message: "Session 'nope' not found" },
    });
    for (const id of ["a.b", "%E0%A4%A", "%00", "a%2Fb", "x".repeat(129)]) {
      assert.equal((await call(rt, "GET", `/v1/sessions/${id}`)).status, 400, id);
    }
  }));

Deno.test("an unknown route is 404 naming the route", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "GET", "/v2/things");
    assert.equal(res.status, 404);
    assert.equal(res.body.error.message, "Route 'GET /v2/things' not found");
  }));

Deno.test("PATCH …/state applies the patch and returns {version} with an ETag", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 1 } } });
    const res = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 2 }, { op: "add", path: "/m", value: [] }],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { version: 2 });
    assert.equal(res.headers.get("ETag"), '"2"');
    assert.deepEqual((await rt.get("s1")).state, { n: 2, m: [] });
  }));

Deno.test("PATCH …/state with a stale If-Match is 412 and changes nothing", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 1 } } });
    const ok = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 2 }],
      headers: { "If-Match": '"1"' },
    });
    assert.equal(ok.status, 200);
    const stale = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 3 }],
      headers: { "If-Match": '"1"' },
    });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, "precondition_failed");
    assert.deepEqual((await rt.get("s1")).state, { n: 2 });
    const bad = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "replace", path: "/n", value: 3 }],
      headers: { "If-Match": "yesterday" },
    });
    assert.equal(bad.status, 400);
  }));

Deno.test("PATCH …/state rejects invalid ops with 400 and a failed test op with 409", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1", state: { n: 1 } } });
    for (
      const body of [{}, [{ op: "jump", path: "/n" }], [{ op: "add", path: "n", value: 1 }], [{
        op: "add",
        path: "/__proto__/x",
        value: 1,
      }]]
    ) {
      const res = await call(rt, "PATCH", "/v1/sessions/s1/state", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const failed = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: [{ op: "test", path: "/n", value: 5 }],
    });
    assert.equal(failed.status, 409);
    const empty = await call(rt, "PATCH", "/v1/sessions/s1/state", { body: [] });
    assert.equal(empty.status, 200, "an empty patch is valid (RFC 6902) and commits nothing");
    assert.equal(empty.body.version, 1);
  }));

Deno.test("a body nested deeper than the limit is 400, not a stack overflow", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const res = await call(rt, "PATCH", "/v1/sessions/s1/state", {
      body: `[{"op":"add","path":"/a","value":${deep}}]`,
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /nests deeper/);
  }));

Deno.test("POST …/actions/:name runs the action and returns {version, result}", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "c1", kind: "counter" } });
    const res = await call(rt, "POST", "/v1/sessions/c1/actions/add", {
      body: { args: { by: 3 } },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { version: 2, result: { n: 3 } });
  }));

Deno.test("POST …/actions/:name with a repeated command id is applied once", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "c1", kind: "counter" } });
    const first = await call(rt, "POST", "/v1/sessions/c1/actions/add", {
      body: { args: { by: 1 } },
      headers: { "Idempotency-Key": "cmd-1" },
    });
    const again = await call(rt, "POST", "/v1/sessions/c1/actions/add", {
      body: { args: { by: 1 }, id: "cmd-1" },
    });
    assert.equal(again.body.version, first.body.version);
    assert.deepEqual((await rt.get("c1")).state, { n: 1 });
  }));

Deno.test("POST …/actions/:name: unknown action 404, bad args 400, bad name 400", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "c1", kind: "counter" } });
    const missing = await call(rt, "POST", "/v1/sessions/c1/actions/nope", { body: { args: {} } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, "Action 'nope' not found on kind 'counter'");
    const args = await call(rt, "POST", "/v1/sessions/c1/actions/add", {
      body: { args: { by: "x" } },
    });
    assert.equal(args.status, 400);
    assert.ok(Array.isArray(args.body.error.details));
    const name = await call(rt, "POST", "/v1/sessions/c1/actions/a%20b", { body: {} });
    assert.equal(name.status, 400);
  }));

Deno.test("PUT …/agents/:agent sets the agent and returns the session", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const res = await call(rt, "PUT", "/v1/sessions/s1/agents/bot-1", {
      body: { status: "working", progress: 0.5, task: "read" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.agents["bot-1"].status, "working");
    assert.equal(res.body.progress, 0.5);
    const bad = await call(rt, "PUT", "/v1/sessions/s1/agents/bot-1", {
      body: { status: "x", progress: 2 },
    });
    assert.equal(bad.status, 400);
    const name = await call(rt, "PUT", "/v1/sessions/s1/agents/a%20b", { body: { status: "x" } });
    assert.equal(name.status, 400);
  }));

Deno.test("DELETE /v1/sessions/:id is 204 and the session is gone", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const res = await call(rt, "DELETE", "/v1/sessions/s1");
    assert.equal(res.status, 204);
    assert.equal((await call(rt, "GET", "/v1/sessions/s1")).status, 404);
    assert.equal((await call(rt, "DELETE", "/v1/sessions/s1")).status, 404);
  }));
