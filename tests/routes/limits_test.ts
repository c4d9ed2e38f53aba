import assert from "node:assert/strict";
import { call, withRuntime } from "./_fixtures.ts";

const MiB = 1024 * 1024;

/** A body that never ends; `pulled()` says how many bytes were read from it. */
function endless(chunk = 64 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let bytes = 0;
  const data = new Uint8Array(chunk).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      bytes += data.byteLength;
      ctrl.enqueue(data);
    },
  });
  return { stream, pulled: () => bytes };
}

Deno.test("a body over 1 MiB is 413 after reading just past the limit, never the whole body", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const body = endless();
    const res = await call(rt, "POST", "/v1/sessions/s1/messages", { body: body.stream });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, "too_large");
    assert.ok(body.pulled() < 2 * MiB, `read ${body.pulled()} bytes`);
  }));

Deno.test("a declared Content-Length over the limit is 413 without reading the body", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "POST", "/v1/sessions", {
      body: "{}",
      headers: { "Content-Length": String(50 * MiB) },
    });
    assert.equal(res.status, 413);
  }));

Deno.test("a message over 1 MiB is 413 naming the limit", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const res = await call(rt, "POST", "/v1/sessions/s1/messages", {
      body: { role: "user", content: "x".repeat(MiB + 10) },
    });
    assert.equal(res.status, 413);
  }));

Deno.test("POST …/results takes a 2 MiB result (blob store) but refuses an endless body with 413", () =>
  withRuntime(async (rt) => {
    await call(rt, "POST", "/v1/sessions", { body: { id: "s1" } });
    const big = "y".repeat(2 * MiB);
    const ok = await call(rt, "POST", "/v1/sessions/s1/results", {
      body: { key: "big", data: big },
    });
    assert.equal(ok.status, 201);
    const back = await call(rt, "GET", "/v1/sessions/s1/results?key=big");
    assert.equal(back.body.results[0].data, big);
    const body = endless(MiB);
    const res = await call(rt, "POST", "/v1/sessions/s1/results", { body: body.stream });
    assert.equal(res.status, 413);
    assert.ok(body.pulled() <= 67 * MiB, `read ${body.pulled()} bytes`);
  }));

Deno.test("a body that is not UTF-8 is 400", () =>
  withRuntime(async (rt) => {
    const res = await call(rt, "POST", "/v1/sessions", {
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.message, "Body is not valid UTF-8");
  }));
