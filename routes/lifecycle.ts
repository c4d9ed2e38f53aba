/**
 * Lifecycle routes of SPEC §4: pause, resume, complete, fail (each → 200
 * with the session) and fork (→ 201 with the new session).
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Runtime } from "../src/runtime.ts";
import { sessionId } from "../src/session.ts";
import { body } from "./_body.ts";
import { checkpointId, emptyBody, noQuery, query, sessionParam } from "./_params.ts";
import type { AppEnv } from "./auth.ts";

const completeBody = z.object({ report: z.unknown().optional() }).strict();
const failBody = z.object({ error: z.string().min(1).max(4096) }).strict();
const forkBody = z.object({ checkpoint: checkpointId.optional(), id: sessionId.optional() })
  .strict();

/** The lifecycle routes under `/v1/sessions`. */
export function lifecycleRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.post("/:id/pause", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    await body(c, emptyBody, "pause");
    return c.json(await rt.pause(id));
  });

  r.post("/:id/resume", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    await body(c, emptyBody, "resume");
    return c.json(await rt.resume(id));
  });

  r.post("/:id/complete", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const { report } = await body(c, completeBody, "complete");
    return c.json(await rt.complete(id, report));
  });

  r.post("/:id/fail", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const { error } = await body(c, failBody, "fail");
    return c.json(await rt.fail(id, error));
  });

  r.post("/:id/fork", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, forkBody, "fork");
    return c.json(await rt.fork(id, input), 201);
  });

  return r;
}
