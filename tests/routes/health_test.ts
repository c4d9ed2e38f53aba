import assert from "node:assert/strict";
import { call, withRuntime } from "./_fixtures.ts";
import { internals } from "../../actors/runtime.ts";

Deno.test("GET /healthz is 200 when KV and SQL answer", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "GET", "/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true, kv: "ok", sql: "ok" });
  }));

Deno.test("GET /healthz is 503 with details when SQL fails", () =>
  withRuntime(async (rt) => {
    const ping = internals(rt).history.ping;
    internals(rt).history.ping = () => Promise.reject(new Error("database is down"));
    try {
      const res = await call(rt, "GET", "/healthz");
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "unavailable");
      assert.deepEqual(res.body.error.details, {
        kv: "ok",
        sql: "History store unavailable: database is down",
      });
    } finally {
      internals(rt).history.ping = ping;
    }
  }));

Deno.test("GET /metrics is Prometheus text", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: {} });
    const res = await rt.app.request("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await res.text(), /^denizen_commits_total [1-9]/m);
  }));
