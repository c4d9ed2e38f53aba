/**
 * The inspector of SPEC §10: `GET /ui`, a page served by the same server with
 * no build step. Its files are plain ES modules and CSS in `routes/ui/`,
 * served from a fixed list (no path from the URL ever reaches the file
 * system), read once and kept in memory.
 *
 * The page is static and holds nothing sensitive, so these routes need no
 * token: mount them before the authenticated routes. The page itself asks
 * for the token and sends it with every API call and as the WebSocket's
 * `bearer.<token>` subprotocol.
 *
 * @module
 */
import { staticFiles } from "./_static_files.ts";
import type { Hono } from "hono";

/** Where the page lives. */
export const INSPECTOR_PATH = "/ui";

/** The page's files and their media types: nothing else under `/ui/` is served. */
const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "inspector.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
  "main.js": "text/javascript; charset=utf-8",
  "api.js": "text/javascript; charset=utf-8",
  "dom.js": "text/javascript; charset=utf-8",
  "format.js": "text/javascript; charset=utf-8",
  "live_times.js": "text/javascript; charset=utf-8",
  "json_patch.js": "text/javascript; charset=utf-8",
  "json_tree.js": "text/javascript; charset=utf-8",
  "session_socket.js": "text/javascript; charset=utf-8",
  "session_mirror.js": "text/javascript; charset=utf-8",
  "session_view.js": "text/javascript; charset=utf-8",
  "session_head.js": "text/javascript; charset=utf-8",
  "session_actions.js": "text/javascript; charset=utf-8",
  "agents_panel.js": "text/javascript; charset=utf-8",
  "timeline.js": "text/javascript; charset=utf-8",
  "history_panels.js": "text/javascript; charset=utf-8",
  "approvals_panel.js": "text/javascript; charset=utf-8",
  "task_board.js": "text/javascript; charset=utf-8",
  "timers_panel.js": "text/javascript; charset=utf-8",
  "conflicts_panel.js": "text/javascript; charset=utf-8",
  "list_view.js": "text/javascript; charset=utf-8",
  "inbox_view.js": "text/javascript; charset=utf-8",
};

/**
 * Same-origin everything; the WebSocket is same-origin too (`ws:`/`wss:`
 * need naming for browsers that do not count them as `'self'`).
 */
const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Mounts the inspector on `app`: `GET /ui` (and `/ui/`) gives the page,
 * `GET /ui/<file>` its scripts and styles. Call it before the routes that
 * need a token, so that the page loads without one.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createRuntime } from "../mod.ts";
 * import { mountInspector } from "./ui.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const app = mountInspector(new Hono()).route("/", rt.app);
 * const res = await app.request("/ui");
 * console.log(res.status, res.headers.get("content-type")); // 200 text/html; charset=utf-8
 * await rt.close();
 * ```
 */
export function mountInspector<A extends Hono>(app: A): A {
  const serve = staticFiles(new URL("./ui/", import.meta.url), FILES, CSP);
  app.get(INSPECTOR_PATH, (c) => serve(c, "index.html"));
  app.get(`${INSPECTOR_PATH}/`, (c) => serve(c, "index.html"));
  app.get(`${INSPECTOR_PATH}/:file`, (c) => serve(c, c.req.param("file")));
  return app;
}
