/** A kind that uses every coordination hook, and a runtime on an injected clock. */
import { z } from "zod";
import { createRuntime, defineSession, type RuntimeOptions } from "../../mod.ts";
import { ManualClock } from "../../src/clock.ts";
import type { Runtime } from "../../actors/runtime.ts";

/** A research session: actions that schedule, ask and record; hooks that react. */
export const research = defineSession({
  kind: "research",
  state: z.object({
    query: z.string().default(""),
    n: z.number().default(0),
    log: z.array(z.string()).default([]),
  }),
  search: ["query"],
  actions: {
    bump: {
      args: z.object({ by: z.number() }),
      run(ctx, { by }) {
        ctx.state.n += by;
        return ctx.state.n;
      },
    },
    later: {
      args: z.object({ in: z.string(), by: z.number() }),
      run(ctx, a) {
        return ctx.schedule({ in: a.in }, "bump", { by: a.by });
      },
    },
    ask: {
      args: z.object({ prompt: z.string(), onDeadline: z.string().optional() }),
      run(ctx, a) {
        return ctx.requestApproval({ prompt: a.prompt, deadline: "10m", onDeadline: a.onDeadline });
      },
    },
    askThenThrow: {
      args: z.object({}),
      run(ctx) {
        ctx.requestApproval({ prompt: "never", deadline: "10m" });
        ctx.schedule({ in: "1m" }, "bump", { by: 1 });
        throw new Error("changed my mind");
      },
    },
  },
  onDecision(ctx, approval) {
    ctx.state.log.push(`${approval.id}:${approval.status}:${approval.option ?? "-"}`);
    if (approval.option === "approve") ctx.schedule({ in: "1m" }, "bump", { by: 100 });
  },
  detectConflicts(ctx, result) {
    const claim = (result.data as { founded?: string } | undefined)?.founded;
    if (claim === undefined) return;
    const seen = ctx.state.log.find((l) => l.startsWith("founded:"));
    if (seen && seen !== `founded:${claim}`) {
      ctx.recordConflict({
        entity: "founded",
        type: "contradiction",
        severity: "high",
        findings: [
          { agent: "earlier", claim: seen.slice(8) },
          { agent: result.agent ?? "unknown", result: result.key, claim },
        ],
      });
    } else if (!seen) ctx.state.log.push(`founded:${claim}`);
  },
});

/** A runtime in memory on a manual clock, its scheduler run by hand (`rt.runDue()`). */
export async function clockRuntime(
  opts: RuntimeOptions = {},
): Promise<{ rt: Runtime; clock: ManualClock }> {
  const clock = new ManualClock();
  const rt = await createRuntime({ memory: true, tickMs: 0, clock, kinds: [research], ...opts });
  return { rt, clock };
}

/** The event types of a session, in order. */
export async function eventTypes(rt: Runtime, id: string): Promise<string[]> {
  return (await rt.events(id)).map((e) => e.type);
}
