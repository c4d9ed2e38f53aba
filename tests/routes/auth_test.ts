import assert from "node:assert/strict";
import { ManualClock, type Runtime } from "../../mod.ts";
import { bearer, call, withRuntime } from "./_fixtures.ts";

const SERVER = bearer("server-secret");
const opts = { token: "server-secret" };

async function mint(rt: Runtime, session: string, body: unknown = {}): Promise<string> {
  const res = await call(rt, "POST", `/v1/sessions/${session}/tokens`, { body, headers: SERVER });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.token;
}

async function twoSessions(rt: Runtime): Promise<void> {
  for (const id of ["A", "B"]) {
    assert.equal(
      (await call(rt, "POST", "/v1/sessions", { body: { id }, headers: SERVER })).status,
      201,
    );
  }
}

Deno.test("with a server token, a request without Authorization is 401", () =>
  withRuntime(async (rt) => {
    for (const path of ["/v1/sessions", "/v1/sessions/A", "/metrics", "/nope"]) {
      const res = await call(rt, "GET", path);
      assert.equal(res.status, 401, path);
      assert.equal(res.body.error.code, "unauthorized");
    }
    const post = await call(rt, "POST", "/v1/sessions", { body: {} });
    assert.equal(post.status, 401);
  }, opts));

Deno.test("with a server token, /healthz stays open", () =>
  withRuntime(async (rt) => {
    assert.equal((await call(rt, "GET", "/healthz")).status, 200);
  }, opts));

Deno.test("the server token reaches every route", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    assert.equal((await call(rt, "GET", "/v1/sessions", { headers: SERVER })).status, 200);
    assert.equal((await call(rt, "GET", "/metrics", { headers: SERVER })).status, 200);
  }, opts));

Deno.test("a wrong, forged or malformed token is 401", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    const good = await mint(rt, "A");
    const [, payload, sig] = good.split(".");
    const otherPayload = btoa(JSON.stringify({ sid: "B", exp: Date.now() + 3_600_000 }))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const forged = [
      "wrong",
      `dzs.${otherPayload}.${sig}`,
      `dzs.${payload}.${sig.slice(0, -2)}AA`,
      `dzs.${payload}`,
      "dzs.!!.!!",
      "x".repeat(5000),
    ];
    for (const token of forged) {
      const res = await call(rt, "GET", "/v1/sessions/B", { headers: bearer(token) });
      assert.equal(res.status, 401, token.slice(0, 40));
    }
    const basic = await call(rt, "GET", "/v1/sessions/A", {
      headers: { Authorization: "Basic abc" },
    });
    assert.equal(basic.status, 401);
  }, opts));

Deno.test("a token minted under another server token is 401", async () => {
  let foreign = "";
  await withRuntime(async (other) => {
    await other.app.request("/v1/sessions", {
      method: "POST",
      body: JSON.stringify({ id: "A" }),
      headers: bearer("other-secret"),
    });
    const res = await call(other, "POST", "/v1/sessions/A/tokens", {
      headers: bearer("other-secret"),
    });
    foreign = res.body.token;
  }, { token: "other-secret" });
  await withRuntime(async (rt) => {
    await twoSessions(rt);
    assert.equal(
      (await call(rt, "GET", "/v1/sessions/A", { headers: bearer(foreign) })).status,
      401,
    );
  }, opts);
});

Deno.test("a session token expires by the runtime's clock: 401 after its ttl", async () => {
  const clock = new ManualClock();
  await withRuntime(async (rt) => {
    await twoSessions(rt);
    const token = await mint(rt, "A", { ttl: "1m" });
    assert.equal((await call(rt, "GET", "/v1/sessions/A", { headers: bearer(token) })).status, 200);
    clock.advance(61_000);
    assert.equal((await call(rt, "GET", "/v1/sessions/A", { headers: bearer(token) })).status, 401);
  }, { ...opts, clock });
});

Deno.test("a token for session A reads and writes A through its routes", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    const h = bearer(await mint(rt, "A", { agent: "bot" }));
    assert.equal((await call(rt, "GET", "/v1/sessions/A", { headers: h })).status, 200);
    const patch = await call(rt, "PATCH", "/v1/sessions/A/state", {
      body: [{ op: "add", path: "/x", value: 1 }],
      headers: h,
    });
    assert.equal(patch.status, 200);
    const msg = await call(rt, "POST", "/v1/sessions/A/messages", {
      body: { role: "agent", content: "hi" },
      headers: h,
    });
    assert.equal(msg.status, 201);
    const events = await call(rt, "GET", "/v1/sessions/A/events", { headers: h });
    assert.equal(
      events.body.events.at(-1).agent,
      "bot",
      "writes are attributed to the token's agent",
    );
  }, opts));

Deno.test("a token for session A can neither read nor write session B (403)", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    const h = bearer(await mint(rt, "A"));
    const attempts: [string, string, unknown?][] = [
      ["GET", "/v1/sessions/B"],
      ["GET", "/v1/sessions/B/events"],
      ["GET", "/v1/sessions/B/messages"],
      ["PATCH", "/v1/sessions/B/state", [{ op: "add", path: "/x", value: 1 }]],
      ["POST", "/v1/sessions/B/messages", { role: "u", content: "x" }],
      ["POST", "/v1/sessions/B/pause"],
      ["DELETE", "/v1/sessions/B"],
      ["GET", "/v1/sessions/B/ws"],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(rt, method, path, { body, headers: h });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error.code, "forbidden");
    }
    assert.equal((await rt.get("B")).version, 1, "B is untouched");
  }, opts));

Deno.test("a session token can neither list, create, import nor mint tokens (403)", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    const h = bearer(await mint(rt, "A"));
    const attempts: [string, string, unknown?][] = [
      ["GET", "/v1/sessions"],
      ["POST", "/v1/sessions", { id: "C" }],
      ["POST", "/v1/sessions/import", {}],
      ["POST", "/v1/sessions/A/tokens", {}],
      ["GET", "/metrics"],
    ];
    for (const [method, path, body] of attempts) {
      assert.equal(
        (await call(rt, method, path, { body, headers: h })).status,
        403,
        `${method} ${path}`,
      );
    }
  }, opts));

Deno.test("the WebSocket route accepts the token as the subprotocol bearer.<token>", () =>
  withRuntime(async (rt) => {
    await twoSessions(rt);
    const token = await mint(rt, "A");
    const ok = await call(rt, "GET", "/v1/sessions/A/ws", {
      headers: { "Sec-WebSocket-Protocol": `bearer.${token}` },
    });
    assert.notEqual(ok.status, 401);
    assert.notEqual(ok.status, 403);
    const other = await call(rt, "GET", "/v1/sessions/B/ws", {
      headers: { "Sec-WebSocket-Protocol": `json, bearer.${token}` },
    });
    assert.equal(other.status, 403);
    const rest = await call(rt, "GET", "/v1/sessions/A", {
      headers: { "Sec-WebSocket-Protocol": `bearer.${token}` },
    });
    assert.equal(rest.status, 401, "the subprotocol form is for the WebSocket route only");
  }, opts));

Deno.test("POST …/tokens: 404 for a missing session, 400 for a ttl over 24h, 409 with no server token", async () => {
  await withRuntime(async (rt) => {
    const missing = await call(rt, "POST", "/v1/sessions/nope/tokens", { headers: SERVER });
    assert.equal(missing.status, 404);
    await twoSessions(rt);
    const long = await call(rt, "POST", "/v1/sessions/A/tokens", {
      body: { ttl: "2d" },
      headers: SERVER,
    });
    assert.equal(long.status, 400);
    const badAgent = await call(rt, "POST", "/v1/sessions/A/tokens", {
      body: { agent: "a b" },
      headers: SERVER,
    });
    assert.equal(badAgent.status, 400);
  }, opts);
  await withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "A" } });
    assert.equal((await call(rt, "POST", "/v1/sessions/A/tokens")).status, 409);
  });
});

Deno.test("without a server token every route is open", () =>
  withRuntime(async (rt) => {
    assert.equal((await call(rt, "GET", "/v1/sessions")).status, 200);
    assert.equal((await call(rt, "POST", "/v1/sessions", { body: {} })).status, 201);
  }));
