/**
 * The Hono app: every route of SPEC §4 under `/v1`, health and metrics.
 * Routes parse their input with zod and call the runtime; one `onError`
 * renders the error family as `{"error": {"code", "message", "details?"}}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DenizenError, ValidationError } from "../src/errors.ts";
import type { Runtime } from "../src/runtime.ts";
import { sessionRoutes } from "./sessions.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Bearer token required on every route but `/healthz`. */
  token?: string;
}

/** Builds the app for `rt`. */
export function createApp(rt: Runtime, _opts: AppOptions = {}): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof DenizenError) {
      const body: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.details !== undefined) body.details = err.details;
      return c.json({ error: body }, err.status as ContentfulStatusCode);
    }
    if (err instanceof SyntaxError) {
      return c.json({ error: { code: "invalid", message: "Body is not valid JSON" } }, 400);
    }
    console.error("unexpected error:", err);
    return c.json({ error: { code: "internal", message: "Internal error" } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `Route '${c.req.method} ${c.req.path}' not found` } }, 404)
  );
  app.get("/healthz", async (c) => {
    await rt.history.ping();
    return c.json({ ok: true });
  });
  app.get("/metrics", (c) => c.text(rt.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }));
  app.route("/v1/sessions", sessionRoutes(rt));
  return app;
}

/** Reads a JSON body; 400 when it is not JSON. */
export async function jsonBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("Body is not valid JSON");
  }
}
