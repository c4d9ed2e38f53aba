/** A kind's state always has what its schema promises: a removed field with a default comes back. */
import assert from "node:assert/strict";
import { z } from "zod";
import { createRuntime, defineSession } from "../../mod.ts";

const notes = defineSession({
  kind: "notes",
  state: z.object({ notes: z.array(z.string()).default([]), title: z.string().optional() }),
  actions: {
    note: {
      args: z.object({ text: z.string() }),
      run(ctx, { text }) {
        ctx.state.notes.push(text);
        return ctx.state.notes.length;
      },
    },
  },
});

Deno.test("a patch that removes a field with a default leaves the default, and the next action runs", async () => {
  const rt = await createRuntime({ memory: true, kinds: [notes], tickMs: 0 });
  try {
    const s = await rt.create("notes", { state: { notes: ["a"] } });
    await rt.patch(s.id, [{ op: "remove", path: "/notes" }]);
    assert.deepEqual((await rt.get(s.id)).state, { notes: [] });
    const { result } = await rt.action(s.id, "note", { text: "b" });
    assert.equal(result, 1);
    assert.deepEqual((await rt.get(s.id)).state, { notes: ["b"] });
    // The events say so too: the patch's event carries the default's op.
    const events = await rt.events(s.id);
    const patch = events.find((e) => e.type === "patch")!;
    assert.deepEqual((patch.data as { ops: unknown[] }).ops, [
      { op: "remove", path: "/notes" },
      { op: "add", path: "/notes", value: [] },
    ]);
  } finally {
    await rt.close();
  }
});
