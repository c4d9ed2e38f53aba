/**
 * History routes of SPEC §4: events, messages, results and checkpoints of a
 * session, read from SQL history and written through the actor.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { messageInput, resultInput } from "../src/inputs.ts";
import type { Runtime } from "../src/runtime.ts";
import { body, RESULT_BODY_LIMIT } from "./_body.ts";
import {
  checkpointParam,
  commandId,
  count,
  emptyBody,
  flag,
  noQuery,
  positive,
  query,
  sessionParam,
} from "./_params.ts";
import { type AppEnv, callerAgent } from "./auth.ts";

const eventsQuery = z.object({ after: count.optional(), limit: positive.optional() }).strict();
const messagesQuery = z.object({
  before: positive.optional(),
  limit: positive.optional(),
  condensed: positive.optional(),
}).strict().refine(
  (q) => q.condensed === undefined || q.before === undefined && q.limit === undefined,
  {
    message: "condensed cannot be combined with before or limit",
  },
);
const resultsQuery = z.object({
  agent: z.string().max(128).optional(),
  key: z.string().max(256).optional(),
  latest: flag.optional(),
  after: count.optional(),
  limit: positive.optional(),
}).strict();
const checkpointBody = z.object({ label: z.string().max(128).optional() }).strict();

/** The history routes under `/v1/sessions`. */
export function historyRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.get("/:id/events", async (c) => {
    const id = sessionParam(c);
    return c.json({ events: await rt.events(id, query(c, eventsQuery)) });
  });

  r.get("/:id/messages", async (c) => {
    const id = sessionParam(c);
    const { condensed, ...page } = query(c, messagesQuery);
    if (condensed !== undefined) return c.json(await rt.condensed(id, condensed));
    return c.json({ messages: await rt.messages(id, page) });
  });

  r.post("/:id/messages", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, messageInput, "message");
    const res = await rt.addMessage(id, input, { cmdId: commandId(c), agent: callerAgent(c) });
    return c.json(res, 201);
  });

  r.get("/:id/results", async (c) => {
    const id = sessionParam(c);
    return c.json({ results: await rt.results(id, query(c, resultsQuery)) });
  });

  r.post("/:id/results", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const input = await body(c, resultInput, "result", RESULT_BODY_LIMIT);
    const agent = input.agent ?? callerAgent(c);
    const res = await rt.addResult(id, { ...input, agent }, { cmdId: commandId(c), agent });
    return c.json(res, 201);
  });

  r.get("/:id/checkpoints", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    return c.json({ checkpoints: await rt.checkpoints(id) });
  });

  r.post("/:id/checkpoints", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const { label } = await body(c, checkpointBody, "checkpoint");
    return c.json(await rt.checkpoint(id, label), 201);
  });

  r.post("/:id/checkpoints/:cp/restore", async (c) => {
    const id = sessionParam(c);
    const cp = checkpointParam(c);
    query(c, noQuery);
    await body(c, emptyBody, "restore");
    return c.json(await rt.restore(id, cp));
  });

  return r;
}
