/**
 * Lifecycle routes of SPEC §4: pause, resume, complete, fail (each → 200
 * with the session) and fork (→ 201 with the new session).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Runtime } from "../actors/runtime.ts";
import { sessionId } from "../src/session.ts";
import { type Api, api, errors, jsonBody, ok, route } from "./_openapi.ts";
import { checkpointId, emptyBody, noQuery, sessionPath } from "./_params.ts";
import { sessionExample, sessionSchema } from "./_responses.ts";

const completeBody = z.object({ report: z.unknown().optional() }).strict();
const failBody = z.object({ error: z.string().min(1).max(4096) }).strict();
const forkBody = z.object({ checkpoint: checkpointId.optional(), id: sessionId.optional() })
  .strict();

const tags = ["lifecycle"];
const theSession = ok(sessionSchema, "The session", sessionExample);

/** The lifecycle routes under `/v1/sessions`. */
export function lifecycleRoutes(rt: Runtime): Api {
  const r = api();

  route(r, {
    method: "post",
    path: "/{id}/pause",
    tags,
    summary: "Pause a session",
    description: "active → paused, with a checkpoint.",
    request: { params: sessionPath, query: noQuery, body: jsonBody(emptyBody, { what: "pause" }) },
    responses: { 200: theSession, ...errors(400, 404, 409, 413, 503) },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await rt.pause(id), 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/resume",
    tags,
    summary: "Resume a paused session",
    description: "paused → active; a completed, failed, expired or archived session is 409.",
    request: { params: sessionPath, query: noQuery, body: jsonBody(emptyBody, { what: "resume" }) },
    responses: { 200: theSession, ...errors(400, 404, 409, 413, 503) },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await rt.resume(id), 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/complete",
    tags,
    summary: "Complete a session",
    description: "active or paused → completed, with a final checkpoint; the session moves to SQL.",
    request: {
      params: sessionPath,
      query: noQuery,
      body: jsonBody(completeBody, { what: "complete", example: { report: { summary: "done" } } }),
    },
    responses: { 200: theSession, ...errors(400, 404, 409, 413, 503) },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const { report } = c.req.valid("json");
    return c.json(await rt.complete(id, report), 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/fail",
    tags,
    summary: "Fail a session",
    description: "active or paused → failed, with a final checkpoint.",
    request: {
      params: sessionPath,
      query: noQuery,
      body: jsonBody(failBody, { what: "fail", example: { error: "search API down" } }),
    },
    responses: { 200: theSession, ...errors(400, 404, 409, 413, 503) },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const { error } = c.req.valid("json");
    return c.json(await rt.fail(id, error), 200);
  });

  route(r, {
    method: "post",
    path: "/{id}/fork",
    tags,
    summary: "Fork a session",
    description: "A new session from a checkpoint or the current state, with `origin`.",
    request: {
      params: sessionPath,
      query: noQuery,
      body: jsonBody(forkBody, { what: "fork", example: { id: "demo-2" } }),
    },
    responses: {
      201: ok(sessionSchema, "The new session", {
        ...sessionExample,
        id: "demo-2",
        origin: { session: "demo", version: 3 },
      }),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await rt.fork(id, c.req.valid("json")), 201);
  });

  return r;
}
