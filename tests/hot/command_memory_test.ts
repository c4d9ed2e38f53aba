import assert from "node:assert/strict";
import { COMMAND_MEMORY, CommandMemory } from "../../src/hot/command_memory.ts";
import { headOf } from "../../src/hot/commit_unit.ts";

// Two ids with the same 32-bit FNV-1a hash, found by search: the memory finds ids by hash.
const A = "cmd-449599";
const B = "cmd-612382";

/** Remembers `records` in memory and in KV, as a commit does. */
async function commit(
  kv: Deno.Kv,
  memory: CommandMemory,
  records: ReturnType<typeof CommandMemory.record>[],
) {
  const op = kv.atomic();
  const pages = memory.pages("s", records, 60_000);
  for (const m of pages.mutations) op.set(m.key, m.value);
  assert.ok((await op.commit()).ok);
  memory.remember(records, headOf("s", 0), pages);
}

Deno.test("ids whose hashes collide are told apart, in memory and after a reload from KV", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const memory = new CommandMemory();
    await commit(kv, memory, [CommandMemory.record(A, 0, 2, { n: "a" }, 2)]);
    assert.equal(memory.get(B), undefined);
    await commit(kv, memory, [CommandMemory.record(B, 1, 3, { n: "b" }, 3)]);
    for (const m of [memory, await CommandMemory.load(kv, "s", undefined)]) {
      assert.deepEqual([m.get(A)?.version, m.get(A)?.result], [2, { n: "a" }]);
      assert.deepEqual([m.get(B)?.version, m.get(B)?.result], [3, { n: "b" }]);
      assert.equal(m.get("cmd-0"), undefined);
    }
  } finally {
    kv.close();
  }
});

Deno.test("the memory keeps the last 1,000 ids, slot by slot, and large results by reference", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const memory = new CommandMemory();
    const total = COMMAND_MEMORY + 40;
    for (let i = 0; i < total; i += 20) {
      const records = [];
      for (let k = i; k < i + 20; k++) {
        const result = k === total - 1 ? "x".repeat(600) : k;
        records.push(CommandMemory.record(`c${k}`, k % COMMAND_MEMORY, k + 2, result, k + 2));
      }
      await commit(kv, memory, records);
    }
    for (const m of [memory, await CommandMemory.load(kv, "s", undefined)]) {
      assert.equal(m.get("c0"), undefined);
      assert.equal(m.get("c39"), undefined);
      assert.deepEqual([m.get("c40")?.version, m.get("c40")?.result], [42, 40]);
      const last = m.get(`c${total - 1}`);
      assert.deepEqual([last?.result, last?.ref], [undefined, total + 1]);
    }
  } finally {
    kv.close();
  }
});
