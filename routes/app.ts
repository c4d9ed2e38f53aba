/**
 * The Hono app: every route of SPEC §4 and §9 under `/v1`, the WebSocket
 * route, health and metrics, the inspector (SPEC §10), and the OpenAPI
 * document of them all with the page that renders it (SPEC §11). Routes are
 * declared with `@hono/zod-openapi` definitions (`routes/_openapi.ts`),
 * parse their input with zod and call the runtime; one `onError` renders the
 * error family as `{"error": {"code", "message", "details?"}}`.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import type { BlankEnv, BlankSchema } from "hono/types";
import type { Runtime } from "../actors/runtime.ts";
import { Tokens } from "../src/tokens.ts";
import { notFound, onError } from "./_errors.ts";
import { api } from "./_openapi.ts";
import { archiveRoutes } from "./archive.ts";
import { authenticate, tokenRoutes } from "./auth.ts";
import { httpRateLimit, type HttpRateOptions } from "./http_rate_limit.ts";
import { coordinationRoutes } from "./coordination.ts";
import { crossSessionRoutes } from "./cross_session.ts";
import { docsRoutes } from "./docs.ts";
import { healthRoutes } from "./health.ts";
import { historyRoutes } from "./history.ts";
import { lifecycleRoutes } from "./lifecycle.ts";
import {
  describeApi,
  describeHealth,
  describeInspector,
  type OpenApiDocument,
  openapiRoutes,
} from "./openapi.ts";
import { sessionRoutes } from "./sessions.ts";
import { mountInspector } from "./ui.ts";
import { wsRoutes } from "./ws.ts";
import type { WsOptions } from "./ws_hub.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Bearer token required on every route but `/healthz`; also the key of session tokens. Default: open. */
  token?: string;
  /** WebSocket tuning: heartbeat, backpressure, flood limits (defaults of SPEC §5). */
  ws?: WsOptions;
  /** Per-client HTTP rate limit; loopback clients are exempt unless asked. `false` turns it off. */
  httpRate?: HttpRateOptions | false;
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
  const root = new OpenAPIHono<BlankEnv, BlankSchema>();
  let doc: OpenApiDocument | undefined;
  const app = api();
  if (opts.httpRate !== false) app.use("*", httpRateLimit(rt.clock, opts.httpRate));
  app.use("*", authenticate(tokens));
  describeHealth(app.route("/", healthRoutes(rt)));
  app.route("/v1/sessions", wsRoutes(rt, opts.ws));
  app.route("/v1/sessions", archiveRoutes(rt));
  app.route("/v1/sessions", sessionRoutes(rt));
  app.route("/v1/sessions", lifecycleRoutes(rt));
  app.route("/v1/sessions", historyRoutes(rt));
  app.route("/v1/sessions", coordinationRoutes(rt));
  app.route("/v1/sessions", tokenRoutes(rt, tokens));
  app.route("/v1", crossSessionRoutes(rt));
  // The document describes `root`, which holds every route once the lines below have run.
  app.route("/v1", openapiRoutes(() => doc ??= describeApi(root)));
  root.onError(onError);
  root.notFound(notFound);
  // /ui and /docs are static and need no token: before `app`, whose middleware asks for it.
  describeInspector(mountInspector(root));
  root.route("/", docsRoutes());
  root.route("/", app);
  return root;
}
