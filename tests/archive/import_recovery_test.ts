import assert from "node:assert/strict";
import { internals } from "../../actors/runtime.ts";
import { createRuntime, ManualClock } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";
import { IMPORT_ABANDONED_MS, recoverImports } from "../../src/archive/import_session.ts";

Deno.test("recoverImports() on a shared KV leaves an import mark younger than IMPORT_ABANDONED_MS (another instance may be importing) and undoes an older one", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
  const rt = await createRuntime({ memory: true, kv, tickMs: 0, clock });
  try {
    assert.equal(internals(rt).stores.soleWriter, false);
    await kv.set(keys.importing("s1"), clock.now());
    await internals(rt).stores.blobs.put("s1/b1", new Uint8Array([1]));
    assert.deepEqual(await recoverImports(internals(rt).archive), []);
    assert.deepEqual(await internals(rt).stores.blobs.list("s1/"), ["s1/b1"]);
    clock.advance(IMPORT_ABANDONED_MS + 1);
    assert.deepEqual(await recoverImports(internals(rt).archive), ["s1"]);
    assert.deepEqual(await internals(rt).stores.blobs.list("s1/"), []);
    assert.equal((await kv.get(keys.importing("s1"))).versionstamp, null);
  } finally {
    await rt.close();
    kv.close();
  }
});

Deno.test("recoverImports() keeps an import whose last write landed and only removes its mark", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0 });
  try {
    const s = await rt.create("default", { id: "s1", state: { n: 1 } });
    await rt.flush();
    await internals(rt).stores.kv.set(keys.importing("s1"), 0); // as if killed just before the mark went
    await internals(rt).stores.kv.set(keys.importing("s2"), 0); // killed before anything was written
    assert.deepEqual(await recoverImports(internals(rt).archive), ["s2"]);
    assert.deepEqual(
      await Array.fromAsync(internals(rt).stores.kv.list({ prefix: keys.importingAll })),
      [],
    );
    assert.deepEqual((await rt.get("s1")).state, s.state);
  } finally {
    await rt.close();
  }
});
