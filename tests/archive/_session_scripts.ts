/**
 * Random sessions made through the runtime's own API: messages, results
 * (inline, partial, and sometimes one over 1 MiB so it lives in the blob
 * store), checkpoints (often more than the 10 the history store keeps),
 * state patches and agents, left active, paused, completed or failed.
 *
 * @module
 */
import fc from "fast-check";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../mod.ts";
import type { Session } from "../../src/session.ts";

/** One step of a script. */
export type Step =
  | { t: "message"; role: string; content: string; meta?: Record<string, unknown> }
  | { t: "result"; key: string; data: unknown; partial: boolean; agent?: string }
  | { t: "big"; key: string; fill: string }
  | { t: "checkpoint"; label?: string }
  | { t: "checkpoints"; count: number }
  | { t: "patch"; value: unknown }
  | { t: "agent"; name: string; progress: number };

/** A session to build: its steps and the status it ends in. */
export interface Script {
  name: string;
  tags: string[];
  steps: Step[];
  end: "active" | "paused" | "completed" | "failed";
}

const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const word = fc.string({ minLength: 1, maxLength: 12 });

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant("message" as const),
      role: fc.constantFrom("user", "assistant"),
      content: fc.string({ maxLength: 40, unit: "grapheme" }),
      meta: fc.option(fc.dictionary(word, json, { maxKeys: 2, noNullPrototype: true }), {
        nil: undefined,
      }),
    }, { requiredKeys: ["t", "role", "content"], noNullPrototype: true }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("result" as const),
      key: word,
      data: json,
      partial: fc.boolean(),
      agent: fc.option(fc.constantFrom("planner", "writer"), { nil: undefined }),
    }, { requiredKeys: ["t", "key", "data", "partial"], noNullPrototype: true }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant("big" as const), key: word, fill: word }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant("checkpoint" as const),
      label: fc.option(word, { nil: undefined }),
    }, { requiredKeys: ["t"], noNullPrototype: true }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant("checkpoints" as const),
      count: fc.integer({ min: 8, max: 12 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant("patch" as const), value: json }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant("agent" as const),
      name: fc.constantFrom("planner", "writer"),
      progress: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
    }),
    weight: 1,
  },
);

/** Scripts of up to 24 steps; at most one over 1 MiB each, to keep runs quick. */
export const scripts: fc.Arbitrary<Script> = fc.record({
  name: word,
  tags: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 2 }),
  steps: fc.array(step, { maxLength: 24 }).map((steps) => {
    const big = steps.findIndex((s) => s.t === "big");
    return steps.filter((s, i) => s.t !== "big" || i === big);
  }),
  end: fc.constantFrom(
    "active" as const,
    "paused" as const,
    "completed" as const,
    "failed" as const,
  ),
});

/** A fresh runtime in memory, without background timers. */
export function memoryRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntime({ memory: true, tickMs: 0, ...opts });
}

/** Builds the session of `script` in `rt` and returns it. */
export async function build(rt: Runtime, script: Script): Promise<Session> {
  const s = await rt.create("default", { name: script.name, tags: script.tags, state: { n: 0 } });
  let n = 0;
  for (const st of script.steps) {
    switch (st.t) {
      case "message":
        await rt.addMessage(s.id, { role: st.role, content: st.content, meta: st.meta });
        break;
      case "result":
        await rt.addResult(s.id, { key: st.key, data: st.data, partial: st.partial }, {
          agent: st.agent,
        });
        break;
      case "big":
        await rt.addResult(s.id, { key: st.key, data: st.fill + "x".repeat(1_100_000) });
        break;
      case "checkpoint":
        await rt.checkpoint(s.id, st.label);
        break;
      case "checkpoints":
        for (let i = 0; i < st.count; i++) await rt.checkpoint(s.id, `burst-${i}`);
        break;
      case "patch":
        await rt.patch(s.id, [{ op: "add", path: `/v${n++}`, value: st.value }]);
        break;
      case "agent":
        await rt.setAgent(s.id, st.name, { status: "working", progress: st.progress });
        break;
    }
  }
  if (script.end === "paused") await rt.pause(s.id);
  if (script.end === "completed") await rt.complete(s.id, { steps: script.steps.length });
  if (script.end === "failed") await rt.fail(s.id, "gave up");
  await rt.flush();
  return await rt.get(s.id);
}

/** All bytes of the export of `id`. */
export async function exported(rt: Runtime, id: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response(await rt.export(id)).arrayBuffer());
}
