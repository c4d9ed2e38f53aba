/**
 * Coordination routes of SPEC §9 under `/v1/sessions/:id`: durable timers,
 * approvals, the task plan with its leases, and conflicts between findings.
 * Bodies are parsed with the zod inputs of `src/coordination/model.ts`; the
 * rules (404 unknown record, 409 for a second decision or a non-holder, …)
 * are the runtime's. An `Idempotency-Key` header makes a mutation
 * exactly-once, as on the other routes. With a session token that names an
 * agent, the task routes act for that agent (naming another is 403), and a
 * decision's or resolution's `by` defaults to it.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  approvalInput,
  claimInput,
  completeInput,
  conflictInput,
  decisionInput,
  failInput,
  heartbeatInput,
  resolveInput,
  tasksInput,
  type TimerInput,
  timerInput,
} from "../src/coordination/model.ts";
import { ForbiddenError, ValidationError } from "../src/errors.ts";
import type { Runtime } from "../src/runtime.ts";
import { body } from "./_body.ts";
import { commandId, flag, noQuery, query, recordParam, sessionParam } from "./_params.ts";
import { type AppEnv, callerAgent } from "./auth.ts";

const approvalsQuery = z.object({ status: z.enum(["pending", "decided", "expired"]).optional() })
  .strict();
const tasksQuery = z.object({
  status: z.enum(["blocked", "ready", "claimed", "done", "failed"]).optional(),
}).strict();
const conflictsQuery = z.object({ resolved: flag.optional() }).strict();

// Over HTTP the agent may come from a session token instead of the body.
const claimBody = claimInput.partial({ agent: true });
const heartbeatBody = heartbeatInput.partial({ agent: true });
const completeBody = completeInput.partial({ agent: true });
const failBody = failInput.partial({ agent: true });

/**
 * The coordination routes under `/v1/sessions`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createRuntime } from "../mod.ts";
 * import { coordinationRoutes } from "./coordination.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const app = new Hono().route("/v1/sessions", coordinationRoutes(rt));
 * const s = await rt.create();
 * const res = await app.request(`/v1/sessions/${s.id}/timers`, {
 *   method: "POST",
 *   body: JSON.stringify({ in: "10m", data: "stand up" }),
 * });
 * console.log(res.status); // 201
 * await rt.close();
 * ```
 */
export function coordinationRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  // ---- timers (§9.1) ----

  r.post("/:id/timers", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    // Parsed here for the 400; the runtime takes the schema's input type and parses it again.
    const input = await body(c, timerInput, "timer") as TimerInput;
    return c.json({ timer: await rt.schedule(id, input, by(c)) }, 201);
  });

  r.get("/:id/timers", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    return c.json({ timers: await rt.timers(id) });
  });

  r.delete("/:id/timers/:tid", async (c) => {
    const id = sessionParam(c);
    const tid = recordParam(c, "tid", "timer id");
    query(c, noQuery);
    await rt.cancelTimer(id, tid, by(c));
    return c.body(null, 204);
  });

  // ---- approvals (§9.2) ----

  r.post("/:id/approvals", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, approvalInput, "approval");
    return c.json({ approval: await rt.requestApproval(id, input, by(c)) }, 201);
  });

  r.get("/:id/approvals", async (c) => {
    const id = sessionParam(c);
    return c.json({ approvals: await rt.approvals(id, query(c, approvalsQuery)) });
  });

  r.post("/:id/approvals/:aid/decision", async (c) => {
    const id = sessionParam(c);
    const aid = recordParam(c, "aid", "approval id");
    query(c, noQuery);
    const input = await body(c, decisionInput, "decision");
    const decider = input.by ?? callerAgent(c);
    const decision = { ...input, ...(decider !== undefined ? { by: decider } : {}) };
    return c.json({ approval: await rt.decide(id, aid, decision, by(c)) });
  });

  // ---- tasks (§9.3) ----

  r.post("/:id/tasks", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, tasksInput, "tasks");
    return c.json(await rt.addTasks(id, input, by(c)), 201);
  });

  r.get("/:id/tasks", async (c) => {
    const id = sessionParam(c);
    return c.json({ tasks: await rt.tasks(id, query(c, tasksQuery)) });
  });

  r.post("/:id/tasks/claim", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, claimBody, "claim");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.claim(id, { ...input, agent }, by(c)) });
  });

  r.post("/:id/tasks/:tid/heartbeat", async (c) => {
    const id = sessionParam(c);
    const tid = recordParam(c, "tid", "task id");
    query(c, noQuery);
    const input = await body(c, heartbeatBody, "heartbeat");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.heartbeat(id, tid, { ...input, agent }, by(c)) });
  });

  r.post("/:id/tasks/:tid/complete", async (c) => {
    const id = sessionParam(c);
    const tid = recordParam(c, "tid", "task id");
    query(c, noQuery);
    const input = await body(c, completeBody, "completion");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.completeTask(id, tid, { ...input, agent }, by(c)) });
  });

  r.post("/:id/tasks/:tid/fail", async (c) => {
    const id = sessionParam(c);
    const tid = recordParam(c, "tid", "task id");
    query(c, noQuery);
    const input = await body(c, failBody, "failure");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.failTask(id, tid, { ...input, agent }, by(c)) });
  });

  // ---- conflicts (§9.4) ----

  r.post("/:id/conflicts", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, conflictInput, "conflict");
    return c.json({ conflict: await rt.recordConflict(id, input, by(c)) }, 201);
  });

  r.get("/:id/conflicts", async (c) => {
    const id = sessionParam(c);
    return c.json({ conflicts: await rt.conflicts(id, query(c, conflictsQuery)) });
  });

  r.post("/:id/conflicts/:cid/resolve", async (c) => {
    const id = sessionParam(c);
    const cid = recordParam(c, "cid", "conflict id");
    query(c, noQuery);
    const input = await body(c, resolveInput, "resolution");
    const resolver = input.by ?? callerAgent(c);
    const resolution = { ...input, ...(resolver !== undefined ? { by: resolver } : {}) };
    return c.json({ conflict: await rt.resolveConflict(id, cid, resolution, by(c)) });
  });

  return r;
}

/** Who sends a mutation: the `Idempotency-Key` as its command id, and the token's agent. */
function by(c: Context<AppEnv>): { id?: string; agent?: string } {
  const id = commandId(c);
  const agent = callerAgent(c);
  return { ...(id !== undefined ? { id } : {}), ...(agent !== undefined ? { agent } : {}) };
}

/**
 * The agent a task route acts for: the body's `agent`, else the session
 * token's. 403 when the two differ, 400 when neither names one.
 */
function taskAgent(c: Context<AppEnv>, named: string | undefined): string {
  const granted = callerAgent(c);
  if (granted !== undefined && named !== undefined && named !== granted) {
    throw new ForbiddenError(`Token is for agent '${granted}'`);
  }
  const agent = named ?? granted;
  if (agent === undefined) {
    throw new ValidationError("Name the agent: 'agent' in the body, or a session token for one");
  }
  return agent;
}
