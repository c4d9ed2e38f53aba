/**
 * Session routes of SPEC §4: create, list, get, the state patch, actions,
 * agents and delete; and of SPEC §9, the metadata update (`PATCH
 * /v1/sessions/:id`) and the list's `waiting`, `conflicts` and `count`.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { agentInput, createInput, listInput, patchOps, updateInput } from "../src/inputs.ts";
import type { Runtime } from "../actors/runtime.ts";
import { type Api, api, empty, errors, jsonBody, ok, route } from "./_openapi.ts";
import {
  commandId,
  commandIdSchema,
  etag,
  flag,
  idempotencyHeader,
  ifMatch,
  ifMatchHeader,
  ifNoneMatchHeader,
  noQuery,
  notModified,
  params,
  sessionPath,
} from "./_params.ts";
import {
  sessionExample,
  sessionSchema,
  sessionSummarySchema,
  statusSchema,
  summaryExample,
} from "./_responses.ts";
import { callerAgent } from "./auth.ts";

const actionBody = z.object({ args: z.unknown().optional(), id: commandIdSchema.optional() })
  .strict();

/** `GET /v1/sessions`: the list filters, and the coordination ones of SPEC §9. */
const listQuery = listInput.extend({
  waiting: z.literal("approval").optional(),
  conflicts: z.literal("open").optional(),
  count: flag.optional(),
});

const page = z.object({
  items: z.array(sessionSummarySchema),
  nextCursor: z.string().nullable().openapi({
    description: "Pass as `cursor`; null on the last page",
  }),
  total: z.record(statusSchema, z.number().int()).optional().openapi({
    description: "With `count=true`: the sessions matching the other filters, by status",
  }),
});

const version = z.object({ version: z.number().int() });
const etagHeader = {
  ETag: { description: 'The version, as `"<version>"`', schema: { type: "string" as const } },
};
const tags = ["sessions"];

/** The `/v1/sessions` routes for sessions themselves. */
export function sessionRoutes(rt: Runtime): Api {
  const r = api();

  route(r, {
    method: "post",
    path: "/",
    tags,
    summary: "Create a session",
    request: {
      query: noQuery,
      body: jsonBody(createInput, {
        what: "session",
        example: { id: "demo", name: "ACME research", state: { query: "ACME" }, tags: ["acme"] },
      }),
    },
    responses: {
      201: ok(sessionSchema, "The new session", sessionExample),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { kind, ...rest } = c.req.valid("json");
    return c.json(await rt.create(kind, rest), 201);
  });

  route(r, {
    method: "get",
    path: "/",
    tags,
    summary: "List and search sessions",
    description:
      "Ordered by `updatedAt` desc; `q` is full text over name, tags, meta and messages.",
    request: { query: listQuery },
    responses: {
      200: ok(page, "A page of sessions", { items: [summaryExample], nextCursor: null }),
      ...errors(400, 503),
    },
  }, async (c) => {
    const page = await rt.list(c.req.valid("query"));
    const answer = { items: page.items, nextCursor: page.nextCursor ?? null };
    return c.json(page.total === undefined ? answer : { ...answer, total: page.total }, 200);
  });

  route(r, {
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a session",
    request: { params: sessionPath, query: noQuery, headers: ifNoneMatchHeader },
    responses: {
      200: { ...ok(sessionSchema, "The session", sessionExample), headers: etagHeader },
      304: empty("`If-None-Match` names the current version"),
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const s = await rt.get(id);
    c.header("ETag", etag(s.version));
    if (notModified(c, s.version)) return c.body(null, 304);
    return c.json(s, 200);
  });

  route(r, {
    method: "patch",
    path: "/{id}",
    tags,
    summary: "Update the metadata",
    description: "`name` null removes it, `tags` are replaced, `meta` is merged (a null value " +
      "removes its key).",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(updateInput, { what: "update", example: { phase: "planning" } }),
    },
    responses: {
      200: { ...ok(sessionSchema, "The session", sessionExample), headers: etagHeader },
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const s = await rt.update(id, input, { id: commandId(c), agent: callerAgent(c) });
    c.header("ETag", etag(s.version));
    return c.json(s, 200);
  });

  route(r, {
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete a session",
    description: "Removes KV, SQL rows, blobs and the archive file.",
    request: { params: sessionPath, query: noQuery },
    responses: { 204: empty("Deleted"), ...errors(400, 404, 503) },
  }, async (c) => {
    const { id } = c.req.valid("param");
    await rt.delete(id);
    return c.body(null, 204);
  });

  route(r, {
    method: "patch",
    path: "/{id}/state",
    tags,
    summary: "Patch the state",
    description: "RFC 6902 JSON Patch, applied atomically: all ops or none.",
    request: {
      params: sessionPath,
      query: noQuery,
      headers: ifMatchHeader.extend(idempotencyHeader.shape),
      body: jsonBody(patchOps, {
        what: "patch",
        empty: undefined,
        example: [{ op: "replace", path: "/query", value: "ACME Corp" }],
      }),
    },
    responses: {
      200: { ...ok(version, "The version after the patch", { version: 4 }), headers: etagHeader },
      ...errors(400, 404, 409, 412, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const ifVersion = ifMatch(c);
    const cmd = commandId(c);
    const ops = c.req.valid("json");
    const res = await rt.patch(id, ops, { ifVersion, id: cmd, agent: callerAgent(c) });
    c.header("ETag", etag(res.version));
    return c.json(res, 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/actions/{name}",
    tags,
    summary: "Run an action of the session's kind",
    description: "The command id is the body's `id`, else the `Idempotency-Key` header.",
    request: {
      params: sessionPath.extend({ name: params.name }),
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(actionBody, { what: "action", example: { args: { by: 2 }, id: "cmd-42" } }),
    },
    responses: {
      200: ok(
        z.object({
          version: z.number().int(),
          result: z.unknown().openapi({ description: "What the action returned" }),
          duplicate: z.boolean().optional().openapi({
            description: "True when the command id was seen: the first result, not applied again",
          }),
        }),
        "The version and the action's result",
        { version: 4, result: { n: 2 } },
      ),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id, name } = c.req.valid("param");
    const input = c.req.valid("json");
    const res = await rt.action(id, name, input.args ?? {}, {
      id: commandId(c, input.id),
      agent: callerAgent(c),
    });
    return c.json(res, 200);
  });

  route(r, {
    method: "put",
    path: "/{id}/agents/{agent}",
    tags,
    summary: "Set an agent's state",
    request: {
      params: sessionPath.extend({ agent: params.agent }),
      query: noQuery,
      headers: idempotencyHeader,
      body: jsonBody(agentInput, {
        what: "agent",
        example: { status: "working", progress: 0.5, task: "search" },
      }),
    },
    responses: {
      200: ok(sessionSchema, "The session", sessionExample),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id, agent } = c.req.valid("param");
    const input = c.req.valid("json");
    return c.json(await rt.setAgent(id, agent, input, { id: commandId(c) }), 200);
  });

  return r;
}
