/**
 * Random sessions made through the runtime's own API: messages, results
 * (inline, partial, and sometimes one over 1 MiB so it lives in the blob
 * store), checkpoints (often more than the 10 the history store keeps),
 * state patches, agents and coordination records (timers, some cancelled;
 * approvals, pending and decided; tasks with deps, some behind an approval,
 * claimed and done; conflicts, open and resolved), left active, paused,
 * completed or failed.
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
  | { t: "agent"; name: string; progress: number }
  | { t: "timer"; minutes: number; data: unknown; patch: boolean }
  | { t: "cancelTimer"; pick: number }
  | { t: "approval"; prompt: string; options?: string[]; onDeadline: boolean }
  | { t: "decide"; pick: number; option: number; comment?: string }
  | { t: "tasks"; titles: string[]; deps: number[]; gated: boolean }
  | { t: "claim"; agent: Agent }
  | { t: "completeTask"; agent: Agent; result: unknown }
  | { t: "work"; agent: Agent; result: unknown; finish: boolean }
  | { t: "conflict"; entity: string; claims: [string, string]; severity: Severity }
  | { t: "resolve"; pick: number; resolution: unknown };

type Agent = "planner" | "writer";
type Severity = "low" | "medium" | "high" | "critical";
const AGENTS: readonly Agent[] = ["planner", "writer"];

/** A session to build: its steps and the status it ends in. */
export interface Script {
  name: string;
  tags: string[];
  steps: Step[];
  end: "active" | "paused" | "completed" | "failed";
}

const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const word = fc.string({ minLength: 1, maxLength: 12 });

const pick = fc.nat(7);
const agentOf = fc.constantFrom(...AGENTS);

/** Steps that make coordination records, through the runtime's own methods. */
const coordinationStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    t: fc.constant("timer" as const),
    minutes: fc.integer({ min: 5, max: 600 }),
    data: json,
    patch: fc.boolean(),
  }),
  fc.record({ t: fc.constant("cancelTimer" as const), pick }),
  fc.record({
    t: fc.constant("approval" as const),
    prompt: word,
    options: fc.option(
      fc.uniqueArray(fc.constantFrom("yes", "no", "later", "skip"), {
        minLength: 1,
        maxLength: 3,
      }),
      { nil: undefined },
    ),
    onDeadline: fc.boolean(),
  }, { requiredKeys: ["t", "prompt", "onDeadline"], noNullPrototype: true }),
  fc.record({
    t: fc.constant("decide" as const),
    pick,
    option: fc.nat(3),
    comment: fc.option(word, { nil: undefined }),
  }, { requiredKeys: ["t", "pick", "option"], noNullPrototype: true }),
  fc.record({
    t: fc.constant("tasks" as const),
    titles: fc.array(word, { minLength: 1, maxLength: 3 }),
    deps: fc.array(fc.nat(9), { maxLength: 3 }),
    gated: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, fc.constant(true)),
  }),
  fc.record({ t: fc.constant("claim" as const), agent: agentOf }),
  fc.record({ t: fc.constant("completeTask" as const), agent: agentOf, result: json }),
  fc.record({
    t: fc.constant("work" as const),
    agent: agentOf,
    result: json,
    finish: fc.boolean(),
  }),
  fc.record({
    t: fc.constant("conflict" as const),
    entity: word,
    claims: fc.tuple(word, word),
    severity: fc.constantFrom(
      "low" as const,
      "medium" as const,
      "high" as const,
      "critical" as const,
    ),
  }),
  fc.record({ t: fc.constant("resolve" as const), pick, resolution: json }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: coordinationStep, weight: 12 },
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

/** Scripts of up to 32 steps; at most one over 1 MiB each, to keep runs quick. */
export const scripts: fc.Arbitrary<Script> = fc.record({
  name: word,
  tags: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 2 }),
  steps: fc.array(step, { maxLength: 32, size: "medium" }).map((steps) => {
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

/** The `pick`th of `items`, round and round; undefined when there are none. */
function nth<T>(items: readonly T[], pick: number): T | undefined {
  return items.length === 0 ? undefined : items[pick % items.length];
}

/** Builds the session of `script` in `rt` and returns it. */
export async function build(rt: Runtime, script: Script): Promise<Session> {
  const s = await rt.create("default", { name: script.name, tags: script.tags, state: { n: 0 } });
  let n = 0;
  let tasks = 0;
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
      case "timer":
        await rt.schedule(
          s.id,
          st.patch
            ? { in: `${st.minutes}m`, patch: [{ op: "add", path: `/t${n++}`, value: st.data }] }
            : { in: `${st.minutes}m`, data: st.data },
        );
        break;
      case "cancelTimer": {
        const timer = nth(await rt.timers(s.id), st.pick);
        if (timer) await rt.cancelTimer(s.id, timer.id);
        break;
      }
      case "approval":
        await rt.requestApproval(s.id, {
          prompt: st.prompt,
          options: st.options,
          deadline: "2h",
          onDeadline: st.onDeadline ? (st.options ?? ["approve"])[0] : undefined,
        });
        break;
      case "decide": {
        const approval = nth(await rt.approvals(s.id, { status: "pending" }), st.pick);
        if (approval) {
          await rt.decide(s.id, approval.id, {
            option: approval.options[st.option % approval.options.length],
            by: "person",
            comment: st.comment,
          });
        }
        break;
      }
      case "tasks": {
        const known = (await rt.tasks(s.id)).map((t) => t.id);
        const fresh = st.titles.map((title) => ({ id: `task-${++tasks}`, title }));
        const deps = [...new Set(st.deps.flatMap((d) => nth(known, d) ?? []))];
        await rt.addTasks(s.id, {
          tasks: fresh.map((t, i) => ({ ...t, deps: i === 0 ? deps : [fresh[i - 1].id] })),
          approval: st.gated ? { prompt: "Go ahead with the plan?", deadline: "3h" } : undefined,
        });
        break;
      }
      case "claim":
        await rt.claim(s.id, { agent: st.agent, lease: "3h" });
        break;
      case "completeTask": {
        const held = (await rt.tasks(s.id, { status: "claimed" })).find((t) =>
          t.holder === st.agent
        );
        if (held) await rt.completeTask(s.id, held.id, { agent: st.agent, result: st.result });
        break;
      }
      case "work": {
        const task = await rt.claim(s.id, { agent: st.agent, lease: "3h" });
        if (task && st.finish) {
          await rt.completeTask(s.id, task.id, { agent: st.agent, result: st.result });
        }
        break;
      }
      case "conflict":
        await rt.recordConflict(s.id, {
          entity: st.entity,
          type: "contradiction",
          findings: [
            { agent: "planner", claim: st.claims[0] },
            { agent: "writer", claim: st.claims[1] },
          ],
          severity: st.severity,
        });
        break;
      case "resolve": {
        const open = nth(await rt.conflicts(s.id, { resolved: false }), st.pick);
        if (open) {
          await rt.resolveConflict(s.id, open.id, { resolution: st.resolution, by: "person" });
        }
        break;
      }
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
