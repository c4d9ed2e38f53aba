/**
 * `GET /v1/sessions/:id/ws`: the WebSocket protocol of SPEC §5.
 *
 * The route checks everything it can before upgrading (the id, the session,
 * `?since`, `?agent`, `?batch`, the grant) and answers 400, 403, 404 or 426 as JSON;
 * then it hands the socket to a {@linkcode WsConnection}. A browser passes
 * its token as the subprotocol `bearer.<token>`; the upgrade selects it, as
 * browsers drop a connection whose offered subprotocol was not chosen.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { DenizenError, ForbiddenError, ValidationError } from "../src/errors.ts";
import { agentName } from "../src/inputs.ts";
import type { Runtime } from "../src/runtime.ts";
import type { Grant } from "../src/tokens.ts";
import { type ConnectionInit, WsConnection } from "./ws_connection.ts";
import { WsHub, type WsOptions } from "./ws_hub.ts";

/** The route handler, with its hub (for `tick()` in tests and presence). */
export type WsRoute = MiddlewareHandler & { readonly hub: WsHub };

/**
 * Builds the WebSocket handler for `rt`. Mount it after the auth middleware,
 * which sets `c.get("grant")`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createRuntime } from "../mod.ts";
 * import { wsRoute } from "./ws.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const app = new Hono().get("/v1/sessions/:id/ws", wsRoute(rt));
 * const res = await app.request("/v1/sessions/nope/ws");
 * console.log(res.status); // 404
 * await rt.close();
 * ```
 */
export function wsRoute(rt: Runtime, opts: WsOptions = {}): WsRoute {
  const hub = new WsHub(rt, opts);
  const handler: MiddlewareHandler = async (c) => {
    let init: ConnectionInit;
    try {
      init = await admit(rt, c);
    } catch (error) {
      if (!(error instanceof DenizenError)) throw error;
      return c.json({ error: { code: error.code, message: error.message } }, error.status as 400);
    }
    if (c.req.header("upgrade") !== "websocket") {
      return c.json({
        error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" },
      }, 426);
    }
    let conn: WsConnection | undefined;
    const protocol = chooseProtocol(c.req.header("sec-websocket-protocol"));
    return await upgradeWebSocket(c, {
      onOpen: (_e, ws) => {
        conn = new WsConnection(hub, ws.raw!, init);
        void conn.start();
      },
      onMessage: (e) => conn?.receive(e.data),
      onClose: () => conn?.dispose(),
    }, protocol === undefined ? {} : { protocol });
  };
  return Object.assign(handler, { hub });
}

/** Checks the request and decides who is connecting; throws the 4xx to answer. */
async function admit(rt: Runtime, c: Context): Promise<ConnectionInit> {
  const session = c.req.param("id") ?? "";
  await rt.get(session); // 400 for a bad id, 404 for an unknown session
  const grant = c.get("grant") as Grant | undefined;
  if (grant?.scope === "session" && grant.session !== session) throw new ForbiddenError();
  const asked = c.req.query("agent");
  if (asked !== undefined && !agentName.safeParse(asked).success) {
    throw new ValidationError("Invalid agent name: 1-128 of [A-Za-z0-9_.:@-]");
  }
  const granted = grant?.scope === "session" ? grant.agent : undefined;
  if (granted !== undefined && asked !== undefined && asked !== granted) {
    throw new ForbiddenError(`Token is for agent '${granted}'`);
  }
  const sinceText = c.req.query("since");
  if (sinceText !== undefined && !/^\d{1,15}$/.test(sinceText)) {
    throw new ValidationError("since must be a non-negative integer seq");
  }
  const batch = c.req.query("batch");
  if (batch !== undefined && batch !== "0" && batch !== "1") {
    throw new ValidationError("batch must be 0 or 1");
  }
  const agent = granted ?? asked;
  return {
    session,
    ...(agent !== undefined ? { agent } : {}),
    ...(sinceText !== undefined ? { since: Number(sinceText) } : {}),
    batch: batch === "1",
  };
}

/** The `bearer.*` subprotocol when one was offered, else the first offered, else none. */
function chooseProtocol(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  return offered.find((p) => p.startsWith("bearer.")) ?? offered[0];
}
