/**
 * A per-client rate limit for HTTP (issue 18): a token bucket per client (its
 * bearer token, else its address), 429 `rate_limited` with `Retry-After`
 * once it is empty. Clients on the loopback interface are not limited unless
 * asked (`loopback: true`): a local agent or test harness should not be
 * throttled by default. Buckets idle for a minute are forgotten, and at most
 * `maxClients` are kept (the oldest go first).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Clock } from "../src/clock.ts";
import { RateLimit } from "./ws_rate_limit.ts";

/** Options of {@linkcode httpRateLimit}. */
export interface HttpRateOptions {
  /** Requests per second refilled per client. Default 100. */
  perSecond?: number;
  /** Requests a client may make in one burst. Default 2 × `perSecond`. */
  burst?: number;
  /** Limit loopback clients too. Default false. */
  loopback?: boolean;
  /** Clients remembered at most. Default 10,000. */
  maxClients?: number;
}

/** Where Deno.serve says the request came from (Hono's `c.env` under Deno). */
interface ServeInfo {
  remoteAddr?: { hostname?: string };
}

const IDLE_MS = 60_000;

/** The middleware; mount it before the routes it limits. */
export function httpRateLimit(clock: Clock, opts: HttpRateOptions = {}): MiddlewareHandler {
  const rate = opts.perSecond ?? 100;
  const burst = opts.burst ?? 2 * rate;
  const maxClients = opts.maxClients ?? 10_000;
  const buckets = new Map<string, { limit: RateLimit; seen: number }>();
  return async (c, next) => {
    const host = (c.env as ServeInfo | undefined)?.remoteAddr?.hostname;
    if (!opts.loopback && (host === undefined || isLoopback(host))) return await next();
    const auth = c.req.header("authorization");
    const key = auth?.startsWith("Bearer ") ? `t:${auth.slice(7)}` : `a:${host}`;
    const now = clock.now();
    let b = buckets.get(key);
    if (b === undefined || now - b.seen > IDLE_MS) {
      buckets.delete(key);
      if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
      b = { limit: new RateLimit({ rate, burst, maxRefused: Infinity }, now), seen: now };
    } else buckets.delete(key); // re-inserted below: the map stays in order of last use
    b.seen = now;
    buckets.set(key, b);
    if (b.limit.take(now) === "ok") return await next();
    c.header("Retry-After", String(Math.max(1, Math.ceil(1 / rate))));
    return c.json({
      error: { code: "rate_limited", message: `Over ${rate} requests a second; retry later` },
    }, 429);
  };
}

function isLoopback(host: string): boolean {
  return host === "::1" || host.startsWith("127.") || host === "localhost" ||
    host.startsWith("::ffff:127.");
}
