/** Fault 1: KV commits that throw or hang, through the library and over HTTP. */
import assert from "node:assert/strict";
import { UnavailableError } from "../../src/errors.ts";
import { call } from "../routes/_fixtures.ts";
import {
  assertHistoryComplete,
  faultRuntime,
  faultyKv,
  outboxKeys,
  quietly,
  settledWithin,
  until,
} from "./_faults.ts";

Deno.test("a throwing KV commit answers 503 to rt.patch and rt.action, applies nothing, and the next commands succeed", async () => {
  const real = await Deno.openKv(":memory:");
  const f = faultyKv(real);
  const rt = await faultRuntime({ kv: f.kv });
  try {
    const s = await rt.create("tally");
    await rt.action(s.id, "add", { tag: "a" });
    const before = await rt.get(s.id);
    f.fault = "throw";
    const { value: results } = await quietly(() =>
      Promise.allSettled([
        rt.patch(s.id, [{ op: "add", path: "/extra", value: 1 }]),
        rt.action(s.id, "add", { tag: "b" }),
        rt.action(s.id, "add", { tag: "c" }, { id: "cmd-c" }),
        rt.addMessage(s.id, { role: "user", content: "lost" }),
      ])
    );
    for (const r of results) {
      assert.equal(r.status, "rejected");
      const e = (r as PromiseRejectedResult).reason;
      assert.ok(e instanceof UnavailableError, String(e));
      assert.equal(e.code, "unavailable");
    }
    assert.deepEqual(await rt.get(s.id), before, "nothing was applied");

    f.fault = "none";
    assert.equal(
      (await rt.action(s.id, "add", { tag: "c" }, { id: "cmd-c" })).duplicate,
      undefined,
    );
    await rt.patch(s.id, [{ op: "add", path: "/extra", value: 2 }]);
    const after = await rt.get(s.id);
    assert.equal(after.version, before.version + 2, "failed commands took no seq");
    assert.deepEqual(after.state, { log: ["a", "c"], extra: 2 });
    await assertHistoryComplete(rt, s.id);
  } finally {
    await rt.close();
    real.close();
  }
});

Deno.test("a throwing KV commit answers 503 with the error envelope over HTTP, and the same requests succeed once KV is back", async () => {
  const real = await Deno.openKv(":memory:");
  const f = faultyKv(real);
  const rt = await faultRuntime({ kv: f.kv });
  try {
    const created = await call(rt, "POST", "/v1/sessions", { body: { kind: "tally", id: "s1" } });
    assert.equal(created.status, 201);
    f.fault = "throw";
    const requests: [string, string, unknown][] = [
      ["PATCH", "/v1/sessions/s1/state", [{ op: "add", path: "/x", value: 1 }]],
      ["POST", "/v1/sessions/s1/actions/add", { args: { tag: "t" } }],
      ["POST", "/v1/sessions/s1/messages", { role: "user", content: "hi" }],
      ["POST", "/v1/sessions/s1/pause", {}],
      ["POST", "/v1/sessions", { kind: "tally", id: "s2" }],
    ];
    const { value: failed } = await quietly(() =>
      Promise.all(requests.map(([m, p, body]) => call(rt, m, p, { body })))
    );
    for (const [i, res] of failed.entries()) {
      assert.equal(
        res.status,
        503,
        `${requests[i][0]} ${requests[i][1]}: ${JSON.stringify(res.body)}`,
      );
      assert.equal(res.body.error.code, "unavailable");
      assert.match(res.body.error.message, /database is locked/);
    }
    const still = await call(rt, "GET", "/v1/sessions/s1");
    assert.equal(still.status, 200, "reads need no commit");
    assert.equal(still.body.version, 1);
    assert.equal(still.body.status, "active");
    assert.equal((await call(rt, "GET", "/v1/sessions/s2")).status, 404, "no partial session");

    f.fault = "none";
    const again = await Promise.all(requests.map(([m, p, body]) => call(rt, m, p, { body })));
    assert.deepEqual(again.map((r) => r.status), [200, 200, 201, 200, 201]);
    const s1 = await rt.get("s1");
    assert.deepEqual(s1.state, { log: ["t"], x: 1 });
    assert.equal(s1.status, "paused");
    await assertHistoryComplete(rt, "s1");
    await assertHistoryComplete(rt, "s2");
  } finally {
    await rt.close();
    real.close();
  }
});

Deno.test("with every third KV commit throwing, every acked command is in the state and no refused one is", async () => {
  const real = await Deno.openKv(":memory:");
  const f = faultyKv(real);
  const rt = await faultRuntime({ kv: f.kv });
  try {
    const sessions = await Promise.all(
      [0, 1, 2, 3].map((i) => rt.create("tally", { id: `s${i}` })),
    );
    f.decide = (n) => n % 3 === 0 ? "throw" : "none";
    const acked = new Map<string, string[]>();
    const refused = new Map<string, string[]>();
    // Each session sends its commands a few at a time, so that many atomics go out.
    await quietly(() =>
      Promise.all(sessions.map(async (s) => {
        for (let i = 0; i < 60; i += 3) {
          await Promise.all([i, i + 1, i + 2].map((j) =>
            rt.action(s.id, "add", { tag: `${s.id}-${j}` }).then(
              () => void (acked.get(s.id) ?? acked.set(s.id, []).get(s.id)!).push(`${s.id}-${j}`),
              (e) => {
                assert.ok(e instanceof UnavailableError, String(e));
                (refused.get(s.id) ?? refused.set(s.id, []).get(s.id)!).push(`${s.id}-${j}`);
              },
            )
          ));
        }
      }))
    );
    f.decide = undefined;
    let refusedTotal = 0;
    for (const s of sessions) {
      const log = (await rt.get(s.id)).state.log as string[];
      assert.deepEqual(
        [...log].sort(),
        [...(acked.get(s.id) ?? [])].sort(),
        "the state holds exactly the acked commands",
      );
      refusedTotal += refused.get(s.id)?.length ?? 0;
      await assertHistoryComplete(rt, s.id);
    }
    assert.ok(refusedTotal > 0, "some commands were refused");
  } finally {
    await rt.close();
    real.close();
  }
});

Deno.test("while a KV commit hangs its commands stay unanswered, another session still commits, and the late commit is acked and durable", async () => {
  const real = await Deno.openKv(":memory:");
  const f = faultyKv(real);
  const rt = await faultRuntime({ kv: f.kv });
  try {
    const a = await rt.create("tally", { id: "a" });
    const b = await rt.create("tally", { id: "b" });
    await rt.flush();
    f.fault = "hang";
    const stuck = rt.action(a.id, "add", { tag: "late" });
    const stuckHttp = Promise.resolve(rt.app.request("/v1/sessions/a/actions/add", {
      method: "POST",
      body: JSON.stringify({ args: { tag: "late-http" } }),
    }));
    assert.equal(await settledWithin(stuck, 100), "pending");
    assert.equal(await settledWithin(stuckHttp, 0), "pending");
    assert.equal(f.hanging, 1, "one atomic hangs");
    f.fault = "none";
    // One of the two atomics in flight hangs; the other carries session b.
    assert.equal((await rt.action(b.id, "add", { tag: "b1" })).version, 2);
    f.release();
    assert.equal((await stuck).version, 2);
    assert.equal((await stuckHttp).status, 200);
    assert.deepEqual((await rt.get(a.id)).state.log, ["late", "late-http"]);
    await assertHistoryComplete(rt, a.id);
    await assertHistoryComplete(rt, b.id);
    assert.equal(await outboxKeys(real), 0);
  } finally {
    await rt.close();
    real.close();
  }
});

Deno.test({
  name:
    "a KV commit that never finishes answers 503 within the commit bound, and the session recovers",
  async fn() {
    const real = await Deno.openKv(":memory:");
    const f = faultyKv(real);
    const rt = await faultRuntime({ kv: f.kv, commitTimeoutMs: 300 });
    try {
      const s = await rt.create("tally");
      f.fault = "hang";
      const res = await settledWithin(rt.action(s.id, "add", { tag: "x" }, { id: "x" }), 5_000);
      assert.notEqual(res, "pending", "answered within the bound");
      const error = (res as { error: unknown }).error;
      assert.ok(error instanceof UnavailableError, String(error));
      assert.match(error.message, /outcome is unknown/);
      f.fault = "none";
      // A resend with the same id takes effect once, whether or not the hung commit lands.
      f.release();
      await rt.action(s.id, "add", { tag: "x" }, { id: "x" });
      assert.deepEqual((await rt.get(s.id)).state.log, ["x"]);
      await assertHistoryComplete(rt, s.id);
    } finally {
      f.release();
      await rt.close();
      real.close();
    }
  },
});

Deno.test({
  name: "while KV commits fail, a due timer is tried again after a backoff, not in a tight loop",
  async fn() {
    const real = await Deno.openKv(":memory:");
    const f = faultyKv(real);
    let dueReads = 0;
    const kv = new Proxy(f.kv, {
      get(target, prop) {
        if (prop === "list") {
          return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
            const first = "prefix" in selector ? selector.prefix[0] : selector.start?.[0];
            if (first === "d") dueReads++;
            return target.list(selector, options);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const rt = await faultRuntime({ kv, tickMs: 30_000 });
    try {
      const s = await rt.create("tally");
      await rt.schedule(s.id, { in: 50, data: {} });
      f.fault = "throw";
      const { logged } = await quietly(async () => {
        await new Promise((r) => setTimeout(r, 100));
        dueReads = 0;
        await new Promise((r) => setTimeout(r, 500));
      });
      assert.ok(dueReads <= 10, `${dueReads} reads of the due index in 500 ms`);
      assert.ok(logged.length <= 10, `${logged.length} errors logged in 500 ms`);
      f.fault = "none";
      await until(async () => (await rt.timers(s.id)).length === 0, "the timer to fire");
    } finally {
      await rt.close();
      real.close();
    }
  },
});
