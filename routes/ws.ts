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
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { DenizenError, ForbiddenError, ValidationError } from "../src/errors.ts";
import { agentName } from "../src/inputs.ts";
import type { Runtime } from "../actors/runtime.ts";
import type { Grant } from "../src/tokens.ts";
import { type Api, api, documented, empty, errors } from "./_openapi.ts";
import { sessionPath } from "./_params.ts";
import { type ConnectionInit, WsConnection } from "./ws_connection.ts";
import { serverFrame, WS_DESCRIPTION, WS_EXTENSION } from "./ws_doc.ts";
import { clientFrame } from "./ws_frames.ts";
import { WsHub, type WsOptions } from "./ws_hub.ts";

/** The upgrade's query string; other parameters are ignored. */
const wsQuery = z.object({
  agent: agentName.optional().openapi({
    description: "The agent this connection speaks for; a session token that names one sets it",
  }),
  since: z.string().regex(/^\d{1,15}$/, "must be a non-negative integer seq").optional()
    .openapi({ description: "Seq of the last event the client has: what came after is replayed" }),
  batch: z.enum(["0", "1"], "must be 0 or 1").optional().openapi({
    description: "1 lets the server send several frames in one message",
  }),
});

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

/**
 * The WebSocket route under `/v1/sessions`, with its entry in the OpenAPI
 * document: the upgrade's parameters, its JSON answers, and the frames in
 * the description and the `x-websocket` extension. The handler checks its
 * own input (see {@linkcode wsRoute}), as it is also mounted alone.
 */
export function wsRoutes(rt: Runtime, opts: WsOptions = {}): Api {
  const r = api();
  // A clone: `register` calls `.openapi()`, which a schema made before the extension lacks.
  r.openAPIRegistry.register("ClientFrame", clientFrame.clone());
  r.openAPIRegistry.register("ServerFrame", serverFrame);
  documented(r, {
    method: "get",
    path: "/{id}/ws",
    tags: ["websocket"],
    summary: "Open the session's WebSocket",
    description: WS_DESCRIPTION,
    request: {
      params: sessionPath,
      query: wsQuery,
      headers: z.object({
        Upgrade: z.literal("websocket"),
        "Sec-WebSocket-Protocol": z.string().optional().openapi({
          description: "`bearer.<token>` from a browser; the server selects it",
          example: "bearer.s3cret",
        }),
      }),
    },
    responses: {
      101: empty("Switching Protocols: frames follow (see the description and x-websocket)"),
      ...errors(400, 404, 426),
    },
    "x-websocket": WS_EXTENSION,
  });
  r.get("/:id/ws", wsRoute(rt, opts));
  return r;
}

/** Checks the request and decides who is connecting; throws the 4xx to answer. */
async function admit(rt: Runtime, c: Context): Promise<ConnectionInit> {
  const session = c.req.param("id") ?? "";
  await rt.get(session); // 400 for a bad id, 404 for an unknown session
  const grant = c.get("grant") as Grant | undefined;
  if (grant?.scope === "session" && grant.session !== session) throw new ForbiddenError();
  const query = wsQuery.safeParse(c.req.query());
  if (!query.success) {
    const issue = query.error.issues[0];
    throw new ValidationError(`Invalid ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const { agent: asked, since, batch } = query.data;
  const granted = grant?.scope === "session" ? grant.agent : undefined;
  if (granted !== undefined && asked !== undefined && asked !== granted) {
    throw new ForbiddenError(`Token is for agent '${granted}'`);
  }
  const agent = granted ?? asked;
  return {
    session,
    ...(agent !== undefined ? { agent } : {}),
    ...(since !== undefined ? { since: Number(since) } : {}),
    batch: batch === "1",
  };
}

/** The `bearer.*` subprotocol when one was offered, else the first offered, else none. */
function chooseProtocol(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  return offered.find((p) => p.startsWith("bearer.")) ?? offered[0];
}
