import assert from "node:assert/strict";
import fc from "fast-check";
import { TooLargeError } from "../../src/errors.ts";
import { LIMITS } from "../../src/session.ts";
import { memoryRuntime } from "./_fixtures.ts";
import { internals } from "../../actors/runtime.ts";

/** A state of exactly `bytes` bytes of JSON (`{}` under 8), with multi-byte text so UTF-8 counting matters. */
function stateOf(bytes: number, seed: number): Record<string, unknown> {
  if (bytes < 2) return {};
  const base = JSON.stringify({ s: "" }).length; // {"s":""}
  if (bytes < base) return {};
  const unit = seed % 2 === 0 ? "a" : "é"; // 1 or 2 bytes
  const unitBytes = new TextEncoder().encode(unit).byteLength;
  let s = unit.repeat(Math.floor((bytes - base) / unitBytes));
  const used = new TextEncoder().encode(JSON.stringify({ s })).byteLength;
  s += "b".repeat(bytes - used);
  return { s };
}

Deno.test("state of any size from 0 B to 512 KiB round-trips through KV", async () => {
  const rt = await memoryRuntime({ snapshotEvery: 4 });
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: 4096 }),
          fc.integer({ min: 60_000, max: 70_000 }),
          fc.integer({ min: 0, max: LIMITS.state }),
          fc.constant(LIMITS.state),
        ),
        fc.nat(),
        async (bytes, seed) => {
          const state = stateOf(bytes, seed);
          const s = await rt.create("default", { state });
          if (bytes + 16 <= LIMITS.state) {
            // patches on top, so the log path is taken too
            await rt.patch(s.id, [{ op: "add", path: "/extra", value: 1 }]);
            await rt.patch(s.id, [{ op: "remove", path: "/extra" }]);
          }
          const fresh = await reopened(rt, s.id);
          assert.deepEqual(fresh, state);
        },
      ),
      { numRuns: 25 },
    );
  } finally {
    await rt.close();
  }
});

Deno.test("513 KiB of state is rejected with 413 and the stored state is unchanged", async () => {
  const rt = await memoryRuntime();
  try {
    await assert.rejects(
      rt.create("default", { state: stateOf(513 * 1024, 0) }),
      (e) => e instanceof TooLargeError && e.status === 413,
    );
    const s = await rt.create("default", { state: stateOf(500 * 1024, 1) });
    await assert.rejects(
      rt.patch(s.id, [{ op: "add", path: "/more", value: "x".repeat(13 * 1024 + 10) }]),
      (e) => e instanceof TooLargeError,
    );
    const after = await rt.get(s.id);
    assert.equal(after.version, s.version);
    assert.deepEqual(after.state, s.state);
    assert.deepEqual(await reopened(rt, s.id), s.state);
  } finally {
    await rt.close();
  }
});

/** The state as a fresh load from KV sees it (not the actor's memory). */
async function reopened(
  rt: Awaited<ReturnType<typeof memoryRuntime>>,
  id: string,
): Promise<Record<string, unknown>> {
  const { HotStore } = await import("../../src/hot/hot_store.ts");
  const { stores } = internals(rt);
  const hot = new HotStore(stores.kv, stores.blobs, { graceMs: 0, snapshotEvery: 64 });
  const loaded = await hot.load(id);
  assert.ok(loaded, "session is in KV");
  return loaded.state;
}
