/**
 * `GET /healthz` (liveness and readiness: a cheap KV get and an SQL ping)
 * and `GET /metrics` (Prometheus text).
 *
 * `/healthz` answers:
 *
 * - 200 `{ok: true, kv: "ok", sql: "ok"}` when both stores answer and the
 *   history keeps up;
 * - 200 with `degraded: true` and `history: {lagMs, pending, failures?,
 *   error?}` when both answer but the history lags: its writes fail (SQLite
 *   busy or locked) or the oldest acknowledged event not yet in SQL waited
 *   over {@linkcode HISTORY_LAG_DEGRADED_MS}. Commands are still acknowledged
 *   (KV is the source of truth), so the server stays ready;
 * - 503 `unavailable` with `details: {kv, sql}` (and `history` when it lags)
 *   when a store does not answer.
 *
 * @module
 */
import { Hono } from "hono";
import { internals, type Runtime } from "../actors/runtime.ts";
import { problem } from "./_errors.ts";
import type { AppEnv } from "./auth.ts";

/** How long a store may take to answer a health check. */
const CHECK_TIMEOUT_MS = 2_000;

/** History lag past which `/healthz` reports the history as degraded (it drains in about 100 ms). */
const HISTORY_LAG_DEGRADED_MS = 10_000;

/** How far SQL history is behind KV, when it is. */
interface HistoryLag {
  /** How long the oldest acknowledged event not yet in SQL has waited, ms. */
  lagMs: number;
  /** Acknowledged events not yet in SQL. */
  pending: number;
  /** History writes that failed in a row. */
  failures?: number;
  /** Why the last one failed. */
  error?: string;
}

/** The health and metrics routes. */
export function healthRoutes(rt: Runtime): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  r.get("/healthz", async (c) => {
    const [kv, sql] = await Promise.all([
      check(() => internals(rt).hot.ping()),
      check(() => internals(rt).history.ping()),
    ]);
    const history = historyLag(rt);
    if (kv !== "ok" || sql !== "ok") {
      return problem(c, 503, "unavailable", "A store is unavailable", {
        kv,
        sql,
        ...(history ? { history } : {}),
      });
    }
    if (history) return c.json({ ok: true, degraded: true, kv, sql, history });
    return c.json({ ok: true, kv, sql });
  });
  r.get(
    "/metrics",
    (c) =>
      c.text(internals(rt).metrics.render(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );
  return r;
}

/** The history's lag when it is degraded: its writes fail, or it is far behind. */
function historyLag(rt: Runtime): HistoryLag | undefined {
  const { stores, metrics } = internals(rt);
  const { failures, error } = stores.historyWrites;
  const gauges = metrics.gauges();
  const lagMs = gauges.outboxLagMs ?? 0;
  if (failures === 0 && lagMs <= HISTORY_LAG_DEGRADED_MS) return undefined;
  const lag: HistoryLag = { lagMs, pending: gauges.outboxPending ?? 0 };
  if (failures > 0) Object.assign(lag, { failures, error });
  return lag;
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
