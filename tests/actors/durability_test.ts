import assert from "node:assert/strict";
import { ConflictError, UnavailableError } from "../../src/errors.ts";
import { ledger, memoryRuntime, withTwoRuntimes } from "../core/_fixtures.ts";
import { createRuntime } from "../../mod.ts";

Deno.test("closing while commands stream loses no acknowledged command after reopening the same KV file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rt = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [ledger] });
    const s = await rt.create("ledger");
    const acked: string[] = [];
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      inflight.push(
        rt.action(s.id, "step", { v: i % 7, tag: `t${i}` }).then(
          () => acked.push(`t${i}`),
          () => {}, // refused after close: never acknowledged
        ),
      );
      if (i === 250) inflight.push(rt.close());
    }
    await Promise.all(inflight);
    assert.ok(acked.length >= 200, `only ${acked.length} acked before close`);

    const again = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [ledger] });
    try {
      const log = (await again.get(s.id)).state.log as string[];
      for (const tag of acked) assert.ok(log.includes(tag), `${tag} was acked but is missing`);
      assert.equal(new Set(log).size, log.length);
      // and the history has every event, drained on start
      const events = await again.events(s.id, { limit: 5000 });
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
      assert.equal(events.length, (await again.get(s.id)).version);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing KV commit answers an error, keeps the last durable state, and the next command succeeds", async () => {
  const real = await Deno.openKv(":memory:");
  let failing = false;
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => failing ? Promise.reject(new TypeError("disk full")) : commit();
          return op;
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const rt = await memoryRuntime({ kv });
  try {
    const s = await rt.create("ledger");
    await rt.action(s.id, "step", { v: 1, tag: "a" });
    const before = await rt.get(s.id);
    failing = true;
    const results = await Promise.allSettled([
      rt.action(s.id, "step", { v: 2, tag: "b" }),
      rt.action(s.id, "step", { v: 3, tag: "c" }, { id: "cmd-c" }),
    ]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof UnavailableError, String(r.reason));
      assert.equal(r.reason.status, 503);
    }
    assert.deepEqual(await rt.get(s.id), before);
    failing = false;
    const next = await rt.action(s.id, "step", { v: 3, tag: "c" }, { id: "cmd-c" });
    assert.equal(next.version, before.version + 1);
    assert.equal(next.duplicate, undefined); // the failed attempt was not remembered
    assert.deepEqual((await rt.get(s.id)).state.log, ["a", "c"]);
  } finally {
    await rt.close();
    real.close();
  }
});

Deno.test("two runtimes on one KV update the same session concurrently and lose no update", () =>
  withTwoRuntimes(async (a, b) => {
    const s = await a.create("ledger");
    await b.get(s.id); // b activates its own actor for the same session
    const conflicts = { n: 0 };
    const send = async (rt: typeof a, tag: string) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          return await rt.action(s.id, "step", { v: 1, tag }, { id: tag });
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
          conflicts.n++;
        }
      }
      throw new Error(`${tag} never committed`);
    };
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      work.push(send(a, `a${i}`), send(b, `b${i}`));
    }
    await Promise.all(work);
    const fromA = await a.get(s.id);
    const log = fromA.state.log as string[];
    assert.equal(log.length, 120);
    assert.equal(new Set(log).size, 120);
    assert.equal(fromA.version, 121);
    // b sees the same state once it reloads
    const fromB = await b.action(s.id, "step", { v: 0, tag: "last" });
    assert.equal(fromB.version, 122);
  }, { kinds: [ledger] }));

Deno.test("a subscriber on one instance receives, in order, the events committed by another instance on the same KV", async () => {
  // Two instances share KV and SQL, as on Deno Deploy with PostgreSQL.
  const dir = await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  const a = await createRuntime({ kv, dataDir: dir, tickMs: 0, kinds: [ledger] });
  const b = await createRuntime({ kv, dataDir: dir, tickMs: 0, kinds: [ledger] });
  try {
    const s = await a.create("ledger");
    const seen: number[] = [];
    let resolve = () => {};
    const done = new Promise<void>((r) => resolve = r);
    const unsubscribe = await a.subscribe(s.id, (events) => {
      for (const e of events) seen.push(e.seq);
      if (seen.includes(11)) resolve();
    });
    for (let i = 0; i < 10; i++) await b.action(s.id, "step", { v: i, tag: `b${i}` });
    const timeout = setTimeout(() => resolve(), 10_000); // fail with the assertion below, not a hang
    await done;
    clearTimeout(timeout);
    unsubscribe();
    assert.deepEqual(seen, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual((await a.get(s.id)).state, (await b.get(s.id)).state);
  } finally {
    await a.close();
    await b.close();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a head stored as a KV object, as data directories from before JSON heads hold it, still loads", async () => {
  const kv = await Deno.openKv(":memory:");
  const rt = await createRuntime({ kv, memory: true, tickMs: 0, kinds: [ledger] });
  try {
    const s = await rt.create("ledger");
    await rt.action(s.id, "step", { v: 3, tag: "a" }, { id: "c1" });
    const stored = await kv.get<Uint8Array>(["s", s.id, "h"]);
    assert.ok(stored.value instanceof Uint8Array, "heads are written as JSON bytes");
    const head = JSON.parse(new TextDecoder().decode(stored.value));
    await kv.set(["s", s.id, "h"], head); // the old form: a structured KV value

    const old = await createRuntime({ kv, memory: true, tickMs: 0, kinds: [ledger] });
    try {
      const loaded = await old.get(s.id);
      assert.equal(loaded.version, 2);
      assert.deepEqual(loaded.state, { acc: 3, log: ["a"] });
      assert.equal(
        (await old.action(s.id, "step", { v: 3, tag: "a" }, { id: "c1" })).duplicate,
        true,
      );
      assert.equal((await old.action(s.id, "step", { v: 1, tag: "b" })).version, 3);
    } finally {
      await old.close();
    }
  } finally {
    await rt.close();
    kv.close();
  }
});
