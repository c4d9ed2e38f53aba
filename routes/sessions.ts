/**
 * REST routes of SPEC §4 for sessions.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { PreconditionError, ValidationError } from "../src/errors.ts";
import { parse } from "../src/inputs.ts";
import type { Runtime } from "../src/runtime.ts";
import { jsonBody } from "./app.ts";

const actionBody = z.object({ args: z.unknown().optional(), id: z.string().max(128).optional() })
  .strict();

/** The `/v1/sessions` routes. */
export function sessionRoutes(rt: Runtime): Hono {
  const r = new Hono();
  r.post("/", async (c) => {
    const body = await jsonBody(c.req.raw) as Record<string, unknown>;
    const kind = typeof body?.kind === "string" ? body.kind : "default";
    const { kind: _k, ...rest } = (body ?? {}) as Record<string, unknown>;
    const s = await rt.create(kind, rest);
    return c.json(s, 201);
  });
  r.get("/:id", async (c) => {
    const s = await rt.get(c.req.param("id"));
    c.header("ETag", `"${s.version}"`);
    return c.json(s);
  });
  r.patch("/:id/state", async (c) => {
    const ops = await jsonBody(c.req.raw);
    const ifMatch = c.req.header("If-Match");
    let ifVersion: number | undefined;
    if (ifMatch !== undefined) {
      const m = /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim());
      if (!m) throw new ValidationError("If-Match must be a version like \"12\"");
      ifVersion = Number(m[1]);
    }
    try {
      const res = await rt.patch(c.req.param("id"), ops as never, { ifVersion });
      c.header("ETag", `"${res.version}"`);
      return c.json(res);
    } catch (e) {
      if (e instanceof PreconditionError) throw e;
      throw e;
    }
  });
  r.post("/:id/actions/:name", async (c) => {
    const body = parse(actionBody, await jsonBody(c.req.raw), "action body");
    const id = body.id ?? c.req.header("Idempotency-Key");
    const res = await rt.action(c.req.param("id"), c.req.param("name"), body.args ?? {}, { id });
    return c.json(res);
  });
  return r;
}
