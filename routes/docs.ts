/**
 * `GET /docs` (SPEC §11): a page that renders `GET /v1/openapi.json` in a
 * browser with no CDN and no build step. Its files are in `routes/docs/`,
 * served from a fixed list (no path from the URL reaches the file system),
 * read once and kept in memory.
 *
 * The page is static and holds nothing: like `/healthz` it needs no token,
 * because a browser cannot send `Authorization` when it opens a page. The
 * document itself stays behind the token: the page asks for it on a 401 and
 * keeps it for the tab, under the same key as the inspector (`/ui`).
 *
 * @module
 */
import { staticFiles } from "./_static_files.ts";
import { z } from "@hono/zod-openapi";
import { type Api, api, errors, PUBLIC, route } from "./_openapi.ts";

/** The page's files and their media types: nothing else under `/docs/` is served. */
const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "docs.js": "text/javascript; charset=utf-8",
  "docs.css": "text/css; charset=utf-8",
};

/** Same-origin everything; no inline script or style. */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The `/docs` routes. Mount them before the routes that need a token.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0, token: "s3cret" });
 * const res = await rt.app.request("/docs");
 * console.log(res.status, res.headers.get("content-type")); // 200 text/html; charset=utf-8
 * await rt.close();
 * ```
 */
export function docsRoutes(): Api {
  const r = api();
  const serve = staticFiles(new URL("./docs/", import.meta.url), FILES, CSP);
  const page = z.string().openapi({ description: "HTML" });
  route(r, {
    method: "get",
    path: "/docs",
    ...PUBLIC,
    tags: ["meta"],
    summary: "This document, rendered",
    description: "A page with no external resources that fetches `/v1/openapi.json` (asking " +
      "for the token when the server has one) and renders every route.",
    responses: { 200: { description: "The page", content: { "text/html": { schema: page } } } },
  }, (c) => serve(c, "index.html"));
  route(r, {
    method: "get",
    path: "/docs/{file}",
    ...PUBLIC,
    tags: ["meta"],
    summary: "The page's script and style",
    request: {
      params: z.object({
        file: z.string().openapi({ example: "docs.js", description: "docs.js or docs.css" }),
      }),
    },
    responses: {
      200: {
        description: "The file",
        content: {
          "text/javascript": { schema: z.string() },
          "text/css": { schema: z.string() },
        },
      },
      ...errors(404),
    },
  }, (c) => serve(c, c.req.valid("param").file));
  return r;
}
