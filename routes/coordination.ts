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
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
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
  timerInput,
} from "../src/coordination/model.ts";
import { ForbiddenError, ValidationError } from "../src/errors.ts";
import type { Runtime } from "../actors/runtime.ts";
import { type Api, api, empty, errors, jsonBody, ok, route } from "./_openapi.ts";
import { commandId, flag, idempotencyHeader, noQuery, params, sessionPath } from "./_params.ts";
import {
  approvalExample,
  approvalSchema,
  conflictExample,
  conflictSchema,
  taskExample,
  taskSchema,
  timerExample,
  timerSchema,
} from "./_responses.ts";
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

const timerPath = sessionPath.extend({ tid: params.timer });
const approvalPath = sessionPath.extend({ aid: params.approval });
const taskPath = sessionPath.extend({ tid: params.task });
const conflictPath = sessionPath.extend({ cid: params.conflict });
const oneTask = z.object({ task: taskSchema });
const errs = errors(400, 404, 409, 413, 503);
const readErrs = errors(400, 404, 503);
const { holder: _holder, leaseUntil: _leaseUntil, ...unclaimed } = taskExample;
const AGENT_NOTE = " `agent` may be left out with a session token that names one.";

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
export function coordinationRoutes(rt: Runtime): Api {
  const r = api();

  // ---- timers (§9.1) ----

  route(r, {
    method: "post",
    path: "/{id}/timers",
    tags: ["timers"],
    summary: "Schedule a durable timer",
    description: "Due `in` a duration or `at` a time; when due it runs the kind's `action` with " +
      "`args`, or applies the JSON Patch `patch`, or, with neither, records `timer.fired` with " +
      "`data` (a reminder).",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(timerInput, {
        what: "timer",
        example: { in: "10m", data: { note: "check in" } },
      }),
    },
    responses: {
      201: ok(z.object({ timer: timerSchema }), "The timer", { timer: timerExample }),
      ...errs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ timer: await rt.schedule(id, c.req.valid("json"), by(c)) }, 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/timers",
    tags: ["timers"],
    summary: "List pending timers",
    description: "By due time.",
    request: { params: sessionPath, query: noQuery },
    responses: {
      200: ok(z.object({ timers: z.array(timerSchema) }), "Pending timers", {
        timers: [timerExample],
      }),
      ...readErrs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ timers: await rt.timers(id) }, 200);
  });

  route(r, {
    method: "delete",
    path: "/{id}/timers/{tid}",
    tags: ["timers"],
    summary: "Cancel a timer",
    description: "404 when it is unknown or has fired already.",
    request: { params: timerPath, query: noQuery, headers: idempotencyHeader },
    responses: { 204: empty("Cancelled"), ...errors(400, 404, 409, 503) },
  }, async (c) => {
    const { id, tid } = c.req.valid("param");
    await rt.cancelTimer(id, tid, by(c));
    return c.body(null, 204);
  });

  // ---- approvals (§9.2) ----

  route(r, {
    method: "post",
    path: "/{id}/approvals",
    tags: ["approvals"],
    summary: "Ask a person to decide",
    description:
      "`options` default to approve and reject; `deadline` is a duration (`30m`) or an " +
      "ISO time; `onDeadline` is the option taken when it passes (without it the approval " +
      "expires).",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(approvalInput, {
        what: "approval",
        example: { prompt: "Publish?", deadline: "30m" },
      }),
    },
    responses: {
      201: ok(z.object({ approval: approvalSchema }), "The approval, pending", {
        approval: approvalExample,
      }),
      ...errs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ approval: await rt.requestApproval(id, c.req.valid("json"), by(c)) }, 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/approvals",
    tags: ["approvals"],
    summary: "List the session's approvals",
    request: { params: sessionPath, query: approvalsQuery },
    responses: {
      200: ok(z.object({ approvals: z.array(approvalSchema) }), "Approvals", {
        approvals: [approvalExample],
      }),
      ...readErrs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ approvals: await rt.approvals(id, c.req.valid("query")) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/approvals/{aid}/decision",
    tags: ["approvals"],
    summary: "Decide an approval",
    description: "An option not offered is 400; a second decision is 409 naming the first; a " +
      "decision after the deadline is 409 `expired`. `by` defaults to the session token's agent.",
    request: {
      params: approvalPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(decisionInput, {
        what: "decision",
        example: { option: "approve", by: "alice" },
      }),
    },
    responses: {
      200: ok(z.object({ approval: approvalSchema }), "The approval, decided", {
        approval: { ...approvalExample, status: "decided", option: "approve", by: "alice" },
      }),
      ...errs,
    },
  }, async (c) => {
    const { id, aid } = c.req.valid("param");
    const input = c.req.valid("json");
    const decider = input.by ?? callerAgent(c);
    const decision = { ...input, ...(decider !== undefined ? { by: decider } : {}) };
    return c.json({ approval: await rt.decide(id, aid, decision, by(c)) }, 200);
  });

  // ---- tasks (§9.3) ----

  route(r, {
    method: "post",
    path: "/{id}/tasks",
    tags: ["tasks"],
    summary: "Add tasks to the plan",
    description: "Unknown deps or a cycle is 400 and adds nothing. With `approval`, the tasks " +
      "wait blocked behind it: `approve` releases them, `reject` drops them.",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(tasksInput, {
        what: "tasks",
        example: {
          tasks: [{ id: "search", title: "Search" }, {
            id: "write",
            title: "Write",
            deps: ["search"],
          }],
        },
      }),
    },
    responses: {
      201: ok(
        z.object({ tasks: z.array(taskSchema), approval: approvalSchema.optional() }),
        "The tasks added, and the approval they wait for",
        { tasks: [{ ...unclaimed, status: "ready", attempt: 0 }] },
      ),
      ...errs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await rt.addTasks(id, c.req.valid("json"), by(c)), 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/tasks",
    tags: ["tasks"],
    summary: "Read the plan",
    description: "In the order the tasks were added.",
    request: { params: sessionPath, query: tasksQuery },
    responses: {
      200: ok(z.object({ tasks: z.array(taskSchema) }), "Tasks", { tasks: [taskExample] }),
      ...readErrs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ tasks: await rt.tasks(id, c.req.valid("query")) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/tasks/claim",
    tags: ["tasks"],
    summary: "Claim a ready task",
    description: "The oldest ready task, or the one named, with a lease (default 60 s); " +
      "`{task: null}` when none is ready." + AGENT_NOTE,
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(claimBody, { what: "claim", example: { agent: "scout", lease: "2m" } }),
    },
    responses: {
      // A union, not `.nullable()`: the generator makes a nullable reference an `allOf` that null fails.
      200: ok(z.object({ task: z.union([taskSchema, z.null()]) }), "The task claimed, or null", {
        task: taskExample,
      }),
      ...errors(400, 403, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.claim(id, { ...input, agent }, by(c)) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/tasks/{tid}/heartbeat",
    tags: ["tasks"],
    summary: "Extend the lease",
    description: "Only the holder may (409 otherwise, naming the holder)." + AGENT_NOTE,
    request: {
      params: taskPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(heartbeatBody, { what: "heartbeat", example: { agent: "scout" } }),
    },
    responses: { 200: ok(oneTask, "The task", { task: taskExample }), ...errs },
  }, async (c) => {
    const { id, tid } = c.req.valid("param");
    const input = c.req.valid("json");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.heartbeat(id, tid, { ...input, agent }, by(c)) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/tasks/{tid}/complete",
    tags: ["tasks"],
    summary: "Complete a task",
    description: "Only the holder may; its dependants become ready." + AGENT_NOTE,
    request: {
      params: taskPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(completeBody, {
        what: "completion",
        example: { agent: "scout", result: { hits: 12 } },
      }),
    },
    responses: {
      200: ok(oneTask, "The task, done", {
        task: { ...unclaimed, status: "done", result: { hits: 12 } },
      }),
      ...errs,
    },
  }, async (c) => {
    const { id, tid } = c.req.valid("param");
    const input = c.req.valid("json");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.completeTask(id, tid, { ...input, agent }, by(c)) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/tasks/{tid}/fail",
    tags: ["tasks"],
    summary: "Fail a task",
    description: "Only the holder may." + AGENT_NOTE,
    request: {
      params: taskPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(failBody, { what: "failure", example: { agent: "scout", error: "timeout" } }),
    },
    responses: {
      200: ok(oneTask, "The task, failed", {
        task: { ...unclaimed, status: "failed", error: "timeout" },
      }),
      ...errs,
    },
  }, async (c) => {
    const { id, tid } = c.req.valid("param");
    const input = c.req.valid("json");
    const agent = taskAgent(c, input.agent);
    return c.json({ task: await rt.failTask(id, tid, { ...input, agent }, by(c)) }, 200);
  });

  // ---- conflicts (§9.4) ----

  route(r, {
    method: "post",
    path: "/{id}/conflicts",
    tags: ["conflicts"],
    summary: "Record a conflict between findings",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(conflictInput, {
        what: "conflict",
        example: {
          entity: "ACME",
          type: "founding-year",
          findings: conflictExample.findings,
          severity: "medium",
        },
      }),
    },
    responses: {
      201: ok(z.object({ conflict: conflictSchema }), "The conflict", {
        conflict: conflictExample,
      }),
      ...errs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ conflict: await rt.recordConflict(id, c.req.valid("json"), by(c)) }, 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/conflicts",
    tags: ["conflicts"],
    summary: "List conflicts",
    description: "In the order recorded.",
    request: { params: sessionPath, query: conflictsQuery },
    responses: {
      200: ok(z.object({ conflicts: z.array(conflictSchema) }), "Conflicts", {
        conflicts: [conflictExample],
      }),
      ...readErrs,
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ conflicts: await rt.conflicts(id, c.req.valid("query")) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/conflicts/{cid}/resolve",
    tags: ["conflicts"],
    summary: "Resolve a conflict",
    description: "409 when it is resolved already. `by` defaults to the session token's agent.",
    request: {
      params: conflictPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(resolveInput, {
        what: "resolution",
        example: { resolution: "founded 1999 (registry)", by: "alice" },
      }),
    },
    responses: {
      200: ok(z.object({ conflict: conflictSchema }), "The conflict, resolved", {
        conflict: {
          ...conflictExample,
          status: "resolved",
          resolution: "founded 1999 (registry)",
          by: "alice",
          resolvedAt: "2026-01-01T01:00:00.000Z",
        },
      }),
      ...errs,
    },
  }, async (c) => {
    const { id, cid } = c.req.valid("param");
    const input = c.req.valid("json");
    const resolver = input.by ?? callerAgent(c);
    const resolution = { ...input, ...(resolver !== undefined ? { by: resolver } : {}) };
    return c.json({ conflict: await rt.resolveConflict(id, cid, resolution, by(c)) }, 200);
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
