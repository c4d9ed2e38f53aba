import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { ManualClock } from "../../src/clock.ts";

const far = { remoteAddr: { hostname: "203.0.113.7", port: 5555, transport: "tcp" } };
const near = { remoteAddr: { hostname: "127.0.0.1", port: 5555, transport: "tcp" } };

Deno.test("a client over its HTTP rate gets 429 with Retry-After, refills with time, and others are not affected", async () => {
  const clock = new ManualClock();
  const rt = await createRuntime({
    memory: true,
    tickMs: 0,
    clock,
    httpRate: { perSecond: 5, burst: 3 },
  });
  try {
    const get = (env: unknown, headers: Record<string, string> = {}) =>
      rt.app.request("/v1/sessions", { headers }, env);
    for (let i = 0; i < 3; i++) assert.equal((await get(far)).status, 200);
    const refused = await get(far);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal((await refused.json()).error.code, "rate_limited");
    assert.equal(
      (await get(far, { authorization: "Bearer other" })).status,
      200,
      "a bucket of its own",
    );
    for (let i = 0; i < 10; i++) assert.equal((await get(near)).status, 200, "loopback is exempt");
    clock.advance(200); // one token back at 5 a second
    assert.equal((await get(far)).status, 200);
    assert.equal((await get(far)).status, 429);
  } finally {
    await rt.close();
  }
});

Deno.test("the HTTP rate limit covers loopback when asked, and is off with httpRate: false", async () => {
  const clock = new ManualClock();
  const strict = await createRuntime({
    memory: true,
    tickMs: 0,
    clock,
    httpRate: { perSecond: 1, burst: 1, loopback: true },
  });
  const open = await createRuntime({ memory: true, tickMs: 0, clock, httpRate: false });
  try {
    assert.equal((await strict.app.request("/healthz", {}, near)).status, 200);
    assert.equal((await strict.app.request("/healthz", {}, near)).status, 429);
    for (let i = 0; i < 20; i++) {
      assert.equal((await open.app.request("/v1/sessions", {}, far)).status, 200);
    }
  } finally {
    await strict.close();
    await open.close();
  }
});
