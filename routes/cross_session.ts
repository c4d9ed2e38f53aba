/**
 * Routes that reach across sessions: the approvals inbox of SPEC §9.2
 * (`GET /v1/approvals`) and the retention rules of seed 002 on demand
 * (`POST /v1/cleanup`). They lie outside `/v1/sessions/:id`, so a session
 * token never reaches them (403, see `auth.ts`).
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Runtime } from "../src/runtime.ts";
import { sessionId } from "../src/session.ts";
import { body } from "./_body.ts";
import { noQuery, positive, query } from "./_params.ts";
import type { AppEnv } from "./auth.ts";

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
export function crossSessionRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.get("/approvals", async (c) => {
    const page = await rt.inbox(query(c, inboxQuery));
    return c.json({ items: page.items, nextCursor: page.nextCursor ?? null });
  });

  r.post("/cleanup", async (c) => {
    query(c, noQuery);
    const { dryRun, ...rules } = await body(c, cleanupBody, "cleanup");
    const ids = await rt.cleanup({ ...rules, dryRun });
    return c.json(dryRun ? { wouldDelete: ids } : { deleted: ids });
  });

  return r;
}
