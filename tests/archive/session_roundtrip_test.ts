import assert from "node:assert/strict";
import fc from "fast-check";
import { build, exported, memoryRuntime, scripts } from "./_session_scripts.ts";
import { manifestOf, streamOf } from "./_tar_helpers.ts";
import { internals } from "../../actors/runtime.ts";

Deno.test("export → import into a fresh runtime → export gives the same bytes, hence the same manifest and records", async () => {
  await fc.assert(
    fc.asyncProperty(scripts, async (script) => {
      const source = await memoryRuntime();
      const target = await memoryRuntime();
      try {
        const original = await build(source, script);
        const first = await exported(source, original.id);
        const imported = await target.import(streamOf(first, 4093));
        assert.deepStrictEqual(imported, original);
        const second = await exported(target, original.id);
        assert.deepStrictEqual(await manifestOf(second), await manifestOf(first));
        assert.deepStrictEqual(second, first);
        assert.deepStrictEqual(
          await target.results(original.id, { limit: 1000 }),
          await source.results(original.id, { limit: 1000 }),
        );
        assert.deepStrictEqual(
          await target.messages(original.id, { limit: 1000 }),
          await source.messages(original.id, { limit: 1000 }),
        );
        assert.deepStrictEqual(
          await target.checkpoints(original.id),
          await source.checkpoints(original.id),
        );
        assert.deepStrictEqual(
          await internals(target).stores.blobs.list(""),
          await internals(source).stores.blobs.list(""),
        );
        assert.deepStrictEqual(
          await target.coordination(original.id),
          await source.coordination(original.id),
        );
        assert.deepStrictEqual(await target.timers(original.id), await source.timers(original.id));
        assert.deepStrictEqual(await target.tasks(original.id), await source.tasks(original.id));
      } finally {
        await source.close();
        await target.close();
      }
    }),
    { numRuns: 40 },
  );
});

Deno.test("an imported active session takes commands at the version after its own", async () => {
  const [script] = fc.sample(scripts.map((s) => ({ ...s, end: "active" as const })), {
    numRuns: 1,
    seed: 11,
  });
  const source = await memoryRuntime();
  const target = await memoryRuntime();
  try {
    const original = await build(source, script);
    await target.import(streamOf(await exported(source, original.id)));
    const { version } = await target.addMessage(original.id, { role: "user", content: "again" });
    assert.equal(version, original.version + 1);
    await target.flush();
    const events = await target.events(original.id, { limit: 100_000 });
    assert.deepStrictEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  } finally {
    await source.close();
    await target.close();
  }
});
