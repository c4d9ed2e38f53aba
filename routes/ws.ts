/**
 * Placeholder for the WebSocket protocol of SPEC §5 (`GET /v1/sessions/:id/ws`),
 * which is being written separately; until then the route answers 501.
 *
 * @module
 */
import type { Context } from "hono";
import type { Runtime } from "../src/runtime.ts";

/** The WebSocket route's handler for `rt`. */
export function wsRoute(_rt: Runtime): (c: Context) => Response | Promise<Response> {
  return (c) =>
    c.json({ error: { code: "not_implemented", message: "WebSocket route not available yet" } }, 501);
}
