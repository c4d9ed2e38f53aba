import assert from "node:assert/strict";
import fc from "fast-check";
import { memoryRuntime, serial } from "../core/_fixtures.ts";

Deno.test("any interleaving of concurrent commands ends in the state of their serial order, and version counts the events", async () => {
  const rt = await memoryRuntime();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 12 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.scheduler(),
        async (callers, s) => {
          const session = await rt.create("ledger");
          const acked: { version: number; v: number; tag: string }[] = [];
          const runs = callers.map(async (values, c) => {
            for (let i = 0; i < values.length; i++) {
              const tag = `${c}.${i}`;
              await s.schedule(Promise.resolve(), tag);
              const ack = await rt.action(session.id, "step", { v: values[i], tag });
              acked.push({ version: ack.version, v: values[i], tag });
            }
          });
          await s.waitFor(Promise.all(runs));
          const after = await rt.get(session.id);
          acked.sort((a, b) => a.version - b.version);
          assert.deepEqual(after.state, serial(acked));
          const total = callers.reduce((n, c) => n + c.length, 0);
          assert.equal(after.version, 1 + total);
          assert.deepEqual(acked.map((a) => a.version), acked.map((_, i) => i + 2));
          // each caller's own commands stay in its order
          for (let c = 0; c < callers.length; c++) {
            const mine = after.state.log as string[];
            const idx = mine.filter((t) => t.startsWith(`${c}.`));
            assert.deepEqual(idx, callers[c].map((_, i) => `${c}.${i}`));
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await rt.close();
  }
});

Deno.test("pause then resume changes nothing but status, timestamps and the events it records", async () => {
  const rt = await memoryRuntime();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
        fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 5 }),
        async (state, tags) => {
          const clean = JSON.parse(JSON.stringify(state));
          const s = await rt.create("default", { state: clean, tags, name: "p", meta: { a: 1 } });
          const paused = await rt.pause(s.id);
          assert.equal(paused.status, "paused");
          const resumed = await rt.resume(s.id);
          const strip = (x: Record<string, unknown>) => {
            const { status: _s, updatedAt: _u, expiresAt: _e, version: _v, ...rest } = x;
            return rest;
          };
          assert.equal(resumed.status, "active");
          assert.deepEqual(strip({ ...resumed }), strip({ ...s }));
          assert.equal(resumed.version, s.version + 3); // checkpoint, paused, resumed
        },
      ),
      { numRuns: 30 },
    );
  } finally {
    await rt.close();
  }
});

Deno.test("a command id sent twice is applied once and the second call gets the first result", async () => {
  const rt = await memoryRuntime();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 })), {
          minLength: 1,
          maxLength: 25,
        }),
        async (sends) => {
          const s = await rt.create("ledger");
          const first = new Map<number, unknown>();
          const results = await Promise.all(
            sends.map(([id, v]) =>
              rt.action(s.id, "step", { v, tag: `id${id}` }, { id: `cmd-${id}` })
            ),
          );
          results.forEach((r, i) => {
            const id = sends[i][0];
            if (!first.has(id)) first.set(id, r);
            const f = first.get(id) as typeof r;
            assert.equal(r.version, f.version);
            assert.deepEqual(r.result, f.result);
          });
          const after = await rt.get(s.id);
          assert.equal((after.state.log as string[]).length, first.size);
          // sent again later, one by one: still not applied
          for (const [id] of sends) {
            const again = await rt.action(s.id, "step", { v: 999, tag: "x" }, { id: `cmd-${id}` });
            assert.equal(again.duplicate, true);
          }
          assert.equal((await rt.get(s.id)).version, after.version);
        },
      ),
      { numRuns: 30 },
    );
  } finally {
    await rt.close();
  }
});
