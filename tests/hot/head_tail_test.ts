import assert from "node:assert/strict";
import fc from "fast-check";
import { createRuntime } from "../../mod.ts";
import { decodeHead, HEAD_CHARS, keys } from "../../src/hot/layout.ts";
import type { Runtime } from "../../actors/runtime.ts";
import { ledger, serial } from "../core/_fixtures.ts";

const open = (kv: Deno.Kv): Promise<Runtime> =>
  createRuntime({ kv, memory: true, tickMs: 0, kinds: [ledger] });

/** The parts of session `id`'s hot keys: "h", "c", "l" (log entries), "k" (command pages). */
async function parts(kv: Deno.Kv, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.session(id) })) out.push(e.key[2] as string);
  return out;
}

Deno.test("small commits write only the head: their ops and ids ride in its tail, and a reopened runtime has both", async () => {
  const kv = await Deno.openKv(":memory:");
  const first = await open(kv);
  const s = await first.create("ledger");
  const acks = [];
  for (let i = 0; i < 3; i++) {
    acks.push(await first.action(s.id, "step", { v: i + 1, tag: `t${i}` }, { id: `c${i}` }));
  }
  await first.close();
  assert.deepEqual(await parts(kv, s.id), ["c", "h"]);
  const head = decodeHead((await kv.get<Uint8Array>(keys.head(s.id))).value!);
  assert.equal(head.tail?.log.length, 3);
  assert.equal(head.tail?.cmds.length, 3);

  const again = await open(kv);
  try {
    const steps = [0, 1, 2].map((i) => ({ v: i + 1, tag: `t${i}` }));
    assert.deepEqual((await again.get(s.id)).state, serial(steps));
    const resent = await again.action(s.id, "step", { v: 9, tag: "again" }, { id: "c1" });
    assert.deepEqual(resent, { ...acks[1], duplicate: true });
    assert.equal((await again.action(s.id, "step", { v: 4, tag: "t3" })).version, 5);
    assert.deepEqual((await again.get(s.id)).state, serial([...steps, { v: 4, tag: "t3" }]));
  } finally {
    await again.close();
    kv.close();
  }
});

Deno.test("a full tail goes out as a log entry and command pages, and leaves the head small", async () => {
  const kv = await Deno.openKv(":memory:");
  const rt = await open(kv);
  try {
    const s = await rt.create("ledger");
    const tag = "x".repeat(40);
    let commits = 0;
    while (!(await parts(kv, s.id)).includes("l")) {
      await rt.action(s.id, "step", { v: 1, tag }, { id: `c${commits++}` });
      const head = (await kv.get<Uint8Array>(keys.head(s.id))).value!;
      assert.ok(head.byteLength <= HEAD_CHARS, `a head of ${head.byteLength} bytes`);
    }
    // About 170 characters a commit: the first ones ride in the tail, and the one that would
    // take the head past HEAD_CHARS flushes them all: one log entry, and their ids in pages of 16.
    assert.ok(commits >= 2, `${commits} commits`);
    const pages = Array.from({ length: Math.ceil(commits / 16) }, () => "k");
    assert.deepEqual(await parts(kv, s.id), ["c", "h", ...pages, "l"]);
    const head = decodeHead((await kv.get<Uint8Array>(keys.head(s.id))).value!);
    assert.equal(head.tail, undefined);
    assert.deepEqual(head.logs, [2]);
    assert.equal((await rt.action(s.id, "step", { v: 1, tag }, { id: "c0" })).duplicate, true);
  } finally {
    await rt.close();
    kv.close();
  }
});

Deno.test("any run of commands, reopened anywhere, keeps its state and remembers its ids, whatever the tail held", async () => {
  const seen = { logEntries: 0, pages: 0, tails: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          v: fc.integer({ min: 0, max: 1000 }),
          size: fc.integer({ min: 1, max: HEAD_CHARS / 2 }),
          withId: fc.boolean(),
          resend: fc.boolean(),
          reopen: fc.boolean(),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      async (commands) => {
        const kv = await Deno.openKv(":memory:");
        let rt = await open(kv);
        try {
          const id = (await rt.create("ledger")).id;
          const applied: { v: number; tag: string }[] = [];
          const remembered: { id: string; version: number; result: unknown }[] = [];
          for (const [i, c] of commands.entries()) {
            if (c.resend && remembered.length > 0) {
              const old = remembered[c.v % remembered.length];
              const ack = await rt.action(id, "step", { v: 0, tag: "resent" }, { id: old.id });
              assert.deepEqual(ack, { version: old.version, result: old.result, duplicate: true });
            } else {
              const step = { v: c.v, tag: `t${i}-`.padEnd(c.size, "x") };
              const cmdId = c.withId ? `c${i}` : undefined;
              const ack = await rt.action(id, "step", step, cmdId ? { id: cmdId } : {});
              assert.equal(ack.version, applied.length + 2);
              applied.push(step);
              if (cmdId) remembered.push({ id: cmdId, version: ack.version, result: ack.result });
            }
            if (c.reopen) {
              await rt.close();
              rt = await open(kv);
            }
          }
          const after = await rt.get(id);
          assert.deepEqual(after.state, serial(applied));
          assert.equal(after.version, applied.length + 1);
          const found = await parts(kv, id);
          if (found.includes("l")) seen.logEntries++;
          if (found.includes("k")) seen.pages++;
          if (decodeHead((await kv.get<Uint8Array>(keys.head(id))).value!).tail) seen.tails++;
        } finally {
          await rt.close();
          kv.close();
        }
      },
    ),
    { numRuns: 40 },
  );
  // The runs went through every layout: ops and ids in the tail, log entries and command pages.
  assert.ok(seen.logEntries > 0 && seen.pages > 0 && seen.tails > 0, JSON.stringify(seen));
});

Deno.test("past 1,000 ids, the oldest are forgotten slot by slot, with the newest in the tail", async () => {
  const kv = await Deno.openKv(":memory:");
  let rt = await open(kv);
  try {
    const s = await rt.create("ledger");
    const acks = [];
    const inTail = async () =>
      decodeHead((await kv.get<Uint8Array>(keys.head(s.id))).value!).tail !== undefined;
    for (let i = 0; i < 1_005 || !(await inTail()); i++) {
      acks.push(await rt.action(s.id, "step", { v: i % 1000, tag: "" }, { id: `c${i}` }));
    }
    await rt.close();
    rt = await open(kv);
    const head = decodeHead((await kv.get<Uint8Array>(keys.head(s.id))).value!);
    assert.ok((head.tail?.cmds.length ?? 0) > 0, "the newest ids are in the tail");
    for (const i of [acks.length - 1_000, 500, acks.length - 1]) {
      const again = await rt.action(s.id, "step", { v: 0, tag: "resent" }, { id: `c${i}` });
      assert.deepEqual(again, { ...acks[i], duplicate: true }, `c${i} is remembered`);
    }
    const version = (await rt.get(s.id)).version;
    const old = `c${acks.length - 1_001}`;
    const forgotten = await rt.action(s.id, "step", { v: 0, tag: "anew" }, { id: old });
    assert.equal(forgotten.version, version + 1, `${old}'s slot was reused`);
  } finally {
    await rt.close();
    kv.close();
  }
});
