/**
 * Authentication of SPEC §7. With a server token configured, every route but
 * `/healthz` needs `Authorization: Bearer <token>` (or, on the WebSocket
 * route, the subprotocol `bearer.<token>`). A session token minted by
 * `POST /v1/sessions/:id/tokens` reaches that one session's routes only.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { parseDuration } from "../src/duration.ts";
import {
  ConflictError,
  ForbiddenError,
  UnauthorizedError,
  ValidationError,
} from "../src/errors.ts";
import { agentName } from "../src/inputs.ts";
import type { Runtime } from "../actors/runtime.ts";
import type { Grant, Tokens } from "../src/tokens.ts";
import { type Api, api, errors, jsonBody, ok, route } from "./_openapi.ts";
import { sessionPath } from "./_params.ts";

/** Hono environment of every route: the verified grant of the caller. */
export type AppEnv = {
  Variables: {
    /** What the caller may reach; `{scope: "all"}` when no token is configured. */
    grant: Grant;
  };
};

/** The longest a session token may live: 24 hours. */
const MAX_TOKEN_TTL_MS = 86_400_000;

const OPEN: Grant = { scope: "all" };
const SESSION_PATH = /^\/v1\/sessions\/([^/]+)(\/.*)?$/;

/** Middleware that verifies the caller's credential and sets `grant`; `tokens` undefined means open. */
export function authenticate(tokens: Tokens | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (tokens === undefined || c.req.path === "/healthz") {
      c.set("grant", OPEN);
      return await next();
    }
    const presented = bearer(c.req.header("Authorization")) ??
      (c.req.path.endsWith("/ws")
        ? subprotocol(c.req.header("Sec-WebSocket-Protocol"))
        : undefined);
    if (presented === undefined) throw new UnauthorizedError();
    const grant = await tokens.verify(presented);
    if (grant === undefined) throw new UnauthorizedError("Invalid or expired bearer token");
    if (grant.scope === "session" && !reaches(grant.session, c.req.method, c.req.path)) {
      throw new ForbiddenError(`Token reaches session '${grant.session}' only`);
    }
    c.set("grant", grant);
    await next();
  };
}

/** The agent named by the caller's session token, if any. */
export function callerAgent(c: Context<AppEnv>): string | undefined {
  const grant = c.get("grant");
  return grant.scope === "session" ? grant.agent : undefined;
}

/** True when a token for `session` may call `method path`: that session's own routes only. */
function reaches(session: string, method: string, path: string): boolean {
  const m = SESSION_PATH.exec(path);
  if (!m || m[1] !== session) return false;
  const rest = m[2] ?? "";
  if (rest === "/tokens") return false;
  return !(rest === "" && session === "import" && method === "POST");
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? "");
  return m?.[1];
}

function subprotocol(header: string | undefined): string | undefined {
  const p = header?.split(",").map((s) => s.trim()).find((s) => s.startsWith("bearer."));
  return p?.slice("bearer.".length) || undefined;
}

const tokenInput = z.object({
  agent: agentName.optional(),
  ttl: z.union([z.number(), z.string().max(32)]).optional(),
}).strict();

const issued = z.object({
  token: z.string().openapi({ description: "`dzs.<payload>.<signature>`" }),
  expiresAt: z.iso.datetime({ offset: true }),
  session: z.string(),
  agent: z.string().optional(),
});

/** `POST /v1/sessions/:id/tokens`: the server token mints a short-lived token for one session. */
export function tokenRoutes(rt: Runtime, tokens: Tokens | undefined): Api {
  const r = api();
  route(r, {
    method: "post",
    path: "/{id}/tokens",
    tags: ["auth"],
    summary: "Mint a session token",
    description: "A signed token that reaches this session's routes only (default 1 hour, at " +
      "most 24 hours); with `agent`, it speaks for that agent. Only the server token mints " +
      "tokens (403 for a session token); without a server token it is 409.",
    request: {
      params: sessionPath,
      body: jsonBody(tokenInput, { what: "token request", example: { agent: "scout", ttl: "2h" } }),
    },
    responses: {
      201: ok(issued, "The token", {
        token: "dzs.eyJzIjoiZGVtbyJ9.c2lnbmF0dXJl",
        expiresAt: "2026-01-01T02:00:00.000Z",
        session: "demo",
        agent: "scout",
      }),
      ...errors(400, 404, 409, 413),
    },
  }, async (c) => {
    const { id } = c.req.valid("param");
    if (c.get("grant").scope !== "all") {
      throw new ForbiddenError("Only the server token mints tokens");
    }
    if (tokens === undefined) {
      throw new ConflictError("Session tokens need a server token: set DENIZEN_TOKEN");
    }
    const input = c.req.valid("json");
    const ttlMs = input.ttl === undefined ? undefined : parseDuration(input.ttl);
    if (ttlMs !== undefined && ttlMs > MAX_TOKEN_TTL_MS) {
      throw new ValidationError(`A token lives at most ${MAX_TOKEN_TTL_MS} ms`, { ttlMs });
    }
    await rt.get(id);
    const issued = await tokens.issue(id, { agent: input.agent, ttlMs });
    return c.json({ ...issued, session: id, ...(input.agent ? { agent: input.agent } : {}) }, 201);
  });
  return r;
}
