/**
 * Archive routes of SPEC §4 and §6: export a session as a streamed tar.gz,
 * import one as a new session, and the `archive` transition.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { DEFAULT_ARCHIVE_LIMITS } from "../src/archive/archive_format.ts";
import { TooLargeError, ValidationError } from "../src/errors.ts";
import type { Runtime } from "../actors/runtime.ts";
import { type Api, api, errors, jsonBody, ok, route } from "./_openapi.ts";
import { emptyBody, noQuery, sessionPath } from "./_params.ts";
import { sessionExample, sessionSchema } from "./_responses.ts";

const tarGz = {
  "application/gzip": {
    schema: z.string().openapi({
      format: "binary",
      description: "A tar.gz of session.json, events.jsonl, messages.jsonl, checkpoints.jsonl, " +
        "results.jsonl, blobs/… and manifest.json (SPEC §6)",
    }),
  },
};

const tags = ["archive"];

/**
 * The archive routes under `/v1/sessions`. `POST /import` has no `:id`, so
 * no session route can capture it.
 *
 * @example
 * ```ts
 * app.route("/v1/sessions", archiveRoutes(rt));
 * ```
 */
export function archiveRoutes(rt: Runtime): Api {
  const r = api();

  route(r, {
    method: "post",
    path: "/import",
    tags,
    summary: "Import an archive as a new session",
    description: "Every checksum of the manifest is checked; absolute or `..` paths, links and " +
      "archives over the size limits are refused.",
    request: { query: noQuery, body: { required: true, content: tarGz } },
    responses: {
      201: ok(sessionSchema, "The imported session", sessionExample),
      ...errors(400, 409, 413, 503),
    },
  }, async (c) => {
    const limit = DEFAULT_ARCHIVE_LIMITS.maxCompressedBytes;
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > limit) {
      throw new TooLargeError(`Archive is over the limit of ${limit} bytes`, {
        bytes: declared,
        limit,
      });
    }
    const stream = c.req.raw.body;
    if (stream === null) throw new ValidationError("Import needs a tar.gz body");
    return c.json(await rt.import(stream), 201);
  });

  route(r, {
    method: "get",
    path: "/{id}/export",
    tags,
    summary: "Export a session",
    description: "Streamed as a tar.gz (SPEC §6).",
    request: { params: sessionPath, query: noQuery },
    responses: {
      200: { description: "The archive", content: tarGz },
      ...errors(400, 404, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    const stream = await rt.export(id);
    return c.body(stream, 200, {
      "content-type": "application/gzip",
      "content-disposition": `attachment; filename="${id}.tar.gz"`,
    });
  });

  route(r, {
    method: "post",
    path: "/{id}/archive",
    tags,
    summary: "Archive a terminal session",
    description: "completed, failed or expired → archived; the tar.gz is written to the archive " +
      "store.",
    request: {
      params: sessionPath,
      query: noQuery,
      body: jsonBody(emptyBody, { what: "archive" }),
    },
    responses: {
      200: ok(sessionSchema, "The session", { ...sessionExample, status: "archived" }),
      ...errors(400, 404, 409, 413, 503),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await rt.archive(id), 200);
  });

  return r;
}
