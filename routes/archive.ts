/**
 * Archive routes of SPEC §4 and §6: export a session as a streamed tar.gz,
 * import one as a new session, and the `archive` transition.
 *
 * @module
 */
import { Hono } from "hono";
import { DEFAULT_ARCHIVE_LIMITS } from "../src/archive/archive_format.ts";
import { TooLargeError, ValidationError } from "../src/errors.ts";
import type { Runtime } from "../src/runtime.ts";
import { body } from "./_body.ts";
import { emptyBody, noQuery, query, sessionParam } from "./_params.ts";
import type { AppEnv } from "./auth.ts";

/**
 * The archive routes under `/v1/sessions`. `POST /import` has no `:id`, so
 * no session route can capture it.
 *
 * @example
 * ```ts
 * app.route("/v1/sessions", archiveRoutes(rt));
 * ```
 */
export function archiveRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.post("/import", async (c) => {
    query(c, noQuery);
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

  r.get("/:id/export", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    const stream = await rt.export(id);
    return c.body(stream, 200, {
      "content-type": "application/gzip",
      "content-disposition": `attachment; filename="${id}.tar.gz"`,
    });
  });

  r.post("/:id/archive", async (c) => {
    const id = sessionParam(c);
    query(c, noQuery);
    await body(c, emptyBody, "archive");
    return c.json(await rt.archive(id));
  });

  return r;
}
