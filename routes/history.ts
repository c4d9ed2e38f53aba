/**
 * History routes of SPEC §4: events, messages, results and checkpoints of a
 * session, read from SQL history and written through the actor.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { messageInput, resultInput } from "../src/inputs.ts";
import type { Runtime } from "../actors/runtime.ts";
import { RESULT_BODY_LIMIT } from "./_body.ts";
import { type Api, api, errors, jsonBody, ok, route } from "./_openapi.ts";
import {
  commandId,
  count,
  emptyBody,
  flag,
  idempotencyHeader,
  noQuery,
  params,
  positive,
  sessionPath,
} from "./_params.ts";
import {
  checkpointExample,
  checkpointSchema,
  eventExample,
  eventSchema,
  messageExample,
  messageSchema,
  resultExample,
  resultSchema,
  sessionExample,
  sessionSchema,
} from "./_responses.ts";
import { callerAgent } from "./auth.ts";

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

const messages = z.union([
  z.object({ messages: z.array(messageSchema) }),
  z.object({
    omitted: z.number().int().min(0).openapi({ description: "Messages left out before these" }),
    messages: z.array(messageSchema),
  }),
]).openapi({ description: "`{messages}`, or with `condensed` `{omitted, messages}`" });

const tags = ["history"];

/** The history routes under `/v1/sessions`. */
export function historyRoutes(rt: Runtime): Api {
  const r = api();

  route(r, {
    method: "get",
    path: "/{id}/events",
    tags,
    summary: "Read the event history",
    description: "Ascending seq, after `after`.",
    request: { params: sessionPath, query: eventsQuery },
    responses: {
      200: ok(z.object({ events: z.array(eventSchema) }), "Events", { events: [eventExample] }),
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ events: await rt.events(id, c.req.valid("query")) }, 200);
  });

  route(r, {
    method: "get",
    path: "/{id}/messages",
    tags,
    summary: "Read the conversation",
    description: "Pages backwards with `before` and `limit`; `condensed=N` gives the last N and " +
      "how many were left out.",
    request: { params: sessionPath, query: messagesQuery },
    responses: {
      200: ok(messages, "Messages, oldest first", { messages: [messageExample] }),
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const { condensed, ...page } = c.req.valid("query");
    if (condensed !== undefined) return c.json(await rt.condensed(id, condensed), 200);
    return c.json({ messages: await rt.messages(id, page) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/messages",
    tags,
    summary: "Append a message",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(messageInput, {
        what: "message",
        example: { role: "user", content: "Who founded ACME?" },
      }),
    },
    responses: {
      201: ok(
        z.object({ version: z.number().int(), id: z.string() }),
        "The version and the message's id",
        { version: 4, id: "m1" },
      ),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const res = await rt.addMessage(id, input, { id: commandId(c), agent: callerAgent(c) });
    return c.json(res, 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/results",
    tags,
    summary: "Read agent results",
    description: "`latest=true` keeps the newest per agent and key.",
    request: { params: sessionPath, query: resultsQuery },
    responses: {
      200: ok(z.object({ results: z.array(resultSchema) }), "Results", {
        results: [resultExample],
      }),
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ results: await rt.results(id, c.req.valid("query")) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/results",
    tags,
    summary: "Record an agent result",
    description: "Up to 64 MiB; over 1 MiB it goes to the blob store.",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(resultInput, {
        what: "result",
        limit: RESULT_BODY_LIMIT,
        example: { agent: "scout", key: "founded", data: { year: 1999 } },
      }),
    },
    responses: {
      201: ok(z.object({ version: z.number().int() }), "The version", { version: 5 }),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const agent = input.agent ?? callerAgent(c);
    const res = await rt.addResult(id, { ...input, agent }, { id: commandId(c), agent });
    return c.json(res, 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/checkpoints",
    tags,
    summary: "List checkpoints",
    description: "Newest first; the last 10 are kept.",
    request: { params: sessionPath, query: noQuery },
    responses: {
      200: ok(z.object({ checkpoints: z.array(checkpointSchema) }), "Checkpoints", {
        checkpoints: [checkpointExample],
      }),
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json({ checkpoints: await rt.checkpoints(id) }, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/checkpoints",
    tags,
    summary: "Take a checkpoint",
    request: {
      params: sessionPath,
      query: noQuery,
      body: jsonBody(checkpointBody, { what: "checkpoint", example: { label: "before-write" } }),
    },
    responses: {
      201: ok(
        z.object({ version: z.number().int(), checkpoint: z.string() }),
        "The version and the checkpoint's id",
        { version: 6, checkpoint: checkpointExample.id },
      ),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const { label } = c.req.valid("json");
    return c.json(await rt.checkpoint(id, label), 201);
  });

  route(r, {
    method: "post",
    path: "/{id}/checkpoints/{cp}/restore",
    tags,
    summary: "Restore a checkpoint",
    request: {
      params: sessionPath.extend({ cp: params.cp }),
      query: noQuery,
      body: jsonBody(emptyBody, { what: "restore" }),
    },
    responses: {
      200: ok(sessionSchema, "The session", sessionExample),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id, cp } = c.req.valid("param");
    return c.json(await rt.restore(id, cp), 200);
  });

  return r;
}
