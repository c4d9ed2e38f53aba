import assert from "node:assert/strict";
import { openHistory } from "../../src/history/open_history.ts";
import type { SessionEvent } from "../../src/session.ts";
import { WorkerWriter } from "../../src/history/worker_writer.ts";

const event = (seq: number, type: unknown = "patch"): SessionEvent =>
  ({ sessionId: "s1", seq, type, data: { seq }, at: "2026-01-01T00:00:00.000Z" }) as SessionEvent;

Deno.test("worker writes: a batch the database refuses rejects with its reason, and the next batch still lands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-worker-" });
  const store = await openHistory({ path: `${dir}/history.sqlite3`, worker: true });
  try {
    await store.write({ events: [event(1)], sessions: [] });
    await assert.rejects(
      () => store.write({ events: [event(2, null)], sessions: [] }),
      /NOT NULL/,
    );
    await store.write({ events: [event(2), event(3)], sessions: [] });
    assert.deepEqual((await store.events("s1")).map((e) => e.seq), [1, 2, 3]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(() => store.write({ events: [event(4)], sessions: [] }), /closed/);
});

Deno.test("worker writes: a database the worker cannot open fails start() and every write with the reason", async () => {
  const writer = new WorkerWriter({ path: "/nonexistent-denizen-dir/history.sqlite3" });
  try {
    await assert.rejects(() => writer.start(), /unable to open/i);
    // each write tries a fresh worker, and says why it failed
    await assert.rejects(
      () => writer.write({ events: [event(1)], sessions: [] }),
      /unable to open/i,
    );
  } finally {
    await writer.close();
  }
});

Deno.test("worker writes: a worker thread that ends fails the write in flight at once, and the next write starts a new thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-worker-" });
  const store = await openHistory({ path: `${dir}/history.sqlite3`, worker: true });
  const writer = store.writer as WorkerWriter;
  try {
    await store.write({ events: [event(1)], sessions: [] });
    const first = writer.thread;
    const events = Array.from({ length: 2_000 }, (_, i) => event(i + 2));
    const inFlight = store.write({ events, sessions: [] });
    await new Promise((r) => setTimeout(r, 1)); // handed to the worker
    await first!.terminate();
    await assert.rejects(inFlight, /History worker stopped/);
    assert.equal(writer.thread, undefined);
    await store.write({ events, sessions: [] }); // again, whether or not the first went in
    assert.notEqual(writer.thread, first);
    assert.deepEqual((await store.events("s1", { limit: 5_000 })).map((e) => e.seq), [
      ...Array.from({ length: 2_001 }, (_, i) => i + 1),
    ]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
