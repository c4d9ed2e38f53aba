import assert from "node:assert/strict";
import fc from "fast-check";
import { createRuntime } from "../../mod.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";

type Step = { t: "cmd"; s: number; n: number } | { t: "drain" } | { t: "restart"; clean: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("cmd" as const),
      s: fc.nat(2),
      n: fc.integer({ min: 1, max: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "drain" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("restart" as const), clean: fc.boolean() }) },
);

Deno.test("after any interleaving of commands, drains and restarts, SQL holds exactly seq 1..version for every session", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
      const dir = await Deno.makeTempDir();
      const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
      const open = () => createRuntime({ kv, dataDir: dir, tickMs: 0 });
      const abandoned: Runtime[] = [];
      let rt = await open();
      try {
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push((await rt.create()).id);
        for (const st of steps) {
          if (st.t === "cmd") {
            const id = ids[st.s];
            await Promise.all(
              Array.from(
                { length: st.n },
                (_, k) =>
                  k % 2 === 0
                    ? rt.patch(id, [{ op: "add", path: `/k${k}`, value: k }])
                    : rt.addMessage(id, { role: "user", content: `m${k}` }),
              ),
            );
          } else if (st.t === "drain") {
            await rt.flush();
          } else {
            if (st.clean) await rt.close();
            else abandoned.push(rt); // a crash: its drainer may still be mid-pass
            rt = await open();
          }
        }
        await rt.flush();
        for (const id of ids) {
          const s = await rt.get(id);
          const events = await internals(rt).history.events(id, { limit: 10_000 });
          assert.deepEqual(
            events.map((e) => e.seq),
            Array.from({ length: s.version }, (_, i) => i + 1),
          );
        }
      } finally {
        await rt.close();
        for (const old of abandoned) await old.close().catch(() => {});
        kv.close();
        await Deno.remove(dir, { recursive: true });
      }
    }),
    { numRuns: 15 },
  );
});
