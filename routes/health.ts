/**
 * `GET /healthz` (liveness and readiness: a cheap KV get and an SQL ping)
 * and `GET /metrics` (Prometheus text).
 *
 * @module
 */
import { Hono } from "hono";
import type { Runtime } from "../src/runtime.ts";
import { problem } from "./_errors.ts";
import type { AppEnv } from "./auth.ts";

/** How long a store may take to answer a health check. */
const CHECK_TIMEOUT_MS = 2_000;

/** The health and metrics routes. */
export function healthRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  r.get("/healthz", async (c) => {
    const [kv, sql] = await Promise.all([
      check(() => rt.stores.kv.get(["healthz"])),
      check(() => rt.history.ping()),
    ]);
    if (kv !== "ok" || sql !== "ok") {
      return problem(c, 503, "unavailable", "A store is unavailable", { kv, sql });
    }
    return c.json({ ok: true, kv, sql });
  });
  r.get(
    "/metrics",
    (c) =>
      c.text(rt.metrics.render(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );
  return r;
}

/** "ok", or why the store did not answer in time. */
async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer in ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => "ok"), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
