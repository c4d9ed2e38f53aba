/**
 * Session routes of SPEC §4: create, list, get, the state patch, actions,
 * agents and delete; and of SPEC §9, the metadata update (`PATCH
 * /v1/sessions/:id`) and the list's `waiting`, `conflicts` and `count`.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { agentInput, createInput, listInput, parse, patchOps, updateInput } from "../src/inputs.ts";
import type { Runtime } from "../src/runtime.ts";
import { body, readJson } from "./_body.ts";
import {
  actionParam,
  agentParam,
  commandId,
  commandIdSchema,
  etag,
  flag,
  ifMatch,
  noQuery,
  notModified,
  query,
  sessionParam,
} from "./_params.ts";
import { type AppEnv, callerAgent } from "./auth.ts";

const actionBody = z.object({ args: z.unknown().optional(), id: commandIdSchema.optional() })
  .strict();

/** `GET /v1/sessions`: the list filters, and the coordination ones of SPEC §9. */
const listQuery = listInput.extend({
  waiting: z.literal("approval").optional(),
  conflicts: z.literal("open").optional(),
  count: flag.optional(),
});

/** The `/v1/sessions` routes for sessions themselves. */
export function sessionRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.post("/", async (c) => {
    query(c, noQuery);
    const { kind, ...rest } = await body(c, createInput, "session");
    return c.json(await rt.create(kind, rest), 201);
  });

  r.get("/", async (c) => {
    const page = await rt.list(query(c, listQuery));
    const answer = { items: page.items, nextCursor: page.nextCursor ?? null };
    return c.json(page.total === undefined ? answer : { ...answer, total: page.total });
  });

  r.get("/:id", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const s = await rt.get(id);
    c.header("ETag", etag(s.version));
    if (notModified(c, s.version)) return c.body(null, 304);
    return c.json(s);
  });

  r.patch("/:id", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, updateInput, "update");
    const s = await rt.update(id, input, { id: commandId(c), agent: callerAgent(c) });
    c.header("ETag", etag(s.version));
    return c.json(s);
  });

  r.delete("/:id", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    await rt.delete(id);
    return c.body(null, 204);
  });

  r.patch("/:id/state", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const ifVersion = ifMatch(c);
    const cmd = commandId(c);
    const ops = parse(patchOps, await readJson(c.req.raw), "patch");
    const res = await rt.patch(id, ops, { ifVersion, id: cmd, agent: callerAgent(c) });
    c.header("ETag", etag(res.version));
    return c.json(res);
  });

  r.post("/:id/actions/:name", async (c) => {
    const id = sessionParam(c);
    const name = actionParam(c);
    query(c, noQuery);
    const input = await body(c, actionBody, "action");
    const res = await rt.action(id, name, input.args ?? {}, {
      id: commandId(c, input.id),
      agent: callerAgent(c),
    });
    return c.json(res);
  });

  r.put("/:id/agents/:agent", async (c) => {
    const id = sessionParam(c);
    const agent = agentParam(c);
    query(c, noQuery);
    const input = await body(c, agentInput, "agent");
    return c.json(await rt.setAgent(id, agent, input, commandId(c)));
  });

  return r;
}
