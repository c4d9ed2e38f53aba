/**
 * The Hono app: every route of SPEC §4 and §9 under `/v1`, the WebSocket
 * route, health and metrics. Routes parse their input with zod and call the
 * runtime; one `onError` renders the error family as
 * `{"error": {"code", "message", "details?"}}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Runtime } from "../src/runtime.ts";
import { Tokens } from "../src/tokens.ts";
import { notFound, onError } from "./_errors.ts";
import { archiveRoutes } from "./archive.ts";
import { type AppEnv, authenticate, tokenRoutes } from "./auth.ts";
import { coordinationRoutes } from "./coordination.ts";
import { crossSessionRoutes } from "./cross_session.ts";
import { healthRoutes } from "./health.ts";
import { historyRoutes } from "./history.ts";
import { lifecycleRoutes } from "./lifecycle.ts";
import { sessionRoutes } from "./sessions.ts";
import { mountInspector } from "./ui.ts";
import { wsRoute } from "./ws.ts";
import type { WsOptions } from "./ws_hub.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Bearer token required on every route but `/healthz`; also the key of session tokens. Default: open. */
  token?: string;
  /** WebSocket tuning: heartbeat, backpressure, flood limits (defaults of SPEC §5). */
  ws?: WsOptions;
}

/**
 * Builds the app for `rt`.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * const rt = await createRuntime({ memory: true, token: "secret" });
 * const res = await rt.app.request("/v1/sessions", { headers: { Authorization: "Bearer secret" } });
 * console.log(res.status); // 200
 * await rt.close();
 * ```
 */
export function createApp(rt: Runtime, opts: AppOptions = {}): Hono {
  const tokens = opts.token ? new Tokens(opts.token, rt.clock) : undefined;
  const app = new Hono<AppEnv>();
  app.use("*", authenticate(tokens));
  app.route("/", healthRoutes(rt));
  app.get("/v1/sessions/:id/ws", wsRoute(rt, opts.ws));
  app.route("/v1/sessions", archiveRoutes(rt));
  app.route("/v1/sessions", sessionRoutes(rt));
  app.route("/v1/sessions", lifecycleRoutes(rt));
  app.route("/v1/sessions", historyRoutes(rt));
  app.route("/v1/sessions", coordinationRoutes(rt));
  app.route("/v1/sessions", tokenRoutes(rt, tokens));
  app.route("/v1", crossSessionRoutes(rt));
  const root = new Hono();
  root.onError(onError);
  root.notFound(notFound);
  return mountInspector(root).route("/", app); // /ui is static and needs no token

}
