/**
 * Routes that reach across sessions: the approvals inbox of SPEC §9.2
 * (`GET /v1/approvals`) and the retention rules of seed 002 on demand
 * (`POST /v1/cleanup`). They lie outside `/v1/sessions/:id`, so a session
 * token never reaches them (403, see `auth.ts`).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Runtime } from "../actors/runtime.ts";
import { sessionId } from "../src/session.ts";
import { type Api, api, errors, jsonBody, ok, route } from "./_openapi.ts";
import { noQuery, positive } from "./_params.ts";
import { approvalExample, inboxApprovalSchema } from "./_responses.ts";

const inboxQuery = z.object({
  status: z.enum(["pending", "decided", "expired"]).optional(),
  session: sessionId.optional(),
  limit: positive.pipe(z.number().max(500)).optional(),
  cursor: z.string().max(512).optional(),
}).strict();

const cleanupBody = z.object({
  olderThanDays: z.number().min(0).max(36_500).optional(),
  keepCompleted: z.number().int().min(0).max(1_000_000).optional(),
  failed: z.boolean().optional(),
  dryRun: z.boolean().optional(),
}).strict();

/**
 * The routes under `/v1` that span sessions.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createRuntime } from "../mod.ts";
 * import { crossSessionRoutes } from "./cross_session.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const app = new Hono().route("/v1", crossSessionRoutes(rt));
 * const res = await app.request("/v1/approvals?status=pending");
 * console.log(await res.json()); // { items: [], nextCursor: null }
 * await rt.close();
 * ```
 */
export function crossSessionRoutes(rt: Runtime): Api {
  const r = api();

  route(r, {
    method: "get",
    path: "/approvals",
    tags: ["approvals"],
    summary: "The approvals inbox across sessions",
    description: "Oldest deadline first. A session token cannot read it (403).",
    request: { query: inboxQuery },
    responses: {
      200: ok(
        z.object({ items: z.array(inboxApprovalSchema), nextCursor: z.string().nullable() }),
        "A page of approvals",
        { items: [{ ...approvalExample, session: "demo" }], nextCursor: null },
      ),
      ...errors(400, 503),
    },
  }, async (c) => {
    const page = await rt.inbox(c.req.valid("query"));
    return c.json({ items: page.items, nextCursor: page.nextCursor ?? null }, 200);
  });

  route(r, {
    method: "post",
    path: "/cleanup",
    tags: ["sessions"],
    summary: "Apply the retention rules now",
    description: "Deletes terminal sessions older than `olderThanDays` (default 30), keeping the " +
      "`keepCompleted` newest completed (default 10), and with `failed` every failed one. " +
      "`dryRun` only says which.",
    request: {
      query: noQuery,
      body: jsonBody(cleanupBody, {
        what: "cleanup",
        example: { olderThanDays: 30, keepCompleted: 10, dryRun: true },
      }),
    },
    responses: {
      200: ok(
        z.union([
          z.object({ deleted: z.array(z.string()) }),
          z.object({ wouldDelete: z.array(z.string()) }),
        ]),
        "The ids deleted, or with `dryRun` the ids that would be",
        { wouldDelete: ["old-1", "old-2"] },
      ),
      ...errors(400, 413, 503),
    },
  }, async (c) => {
    const { dryRun, ...rules } = c.req.valid("json");
    const ids = await rt.cleanup({ ...rules, dryRun });
    return c.json(dryRun ? { wouldDelete: ids } : { deleted: ids }, 200);
  });

  return r;
}
