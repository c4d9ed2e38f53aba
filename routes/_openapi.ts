/**
 * How a route is declared: one `createRoute`-style definition gives both the
 * route's entry in `GET /v1/openapi.json` and its validation, so the two
 * cannot drift apart.
 *
 * - Path parameters and query strings are checked by `@hono/zod-openapi`'s
 *   validators with the definition's zod schemas; a failure is a 400 in the
 *   error envelope, with zod's issues as `details`.
 * - A JSON body declared with {@linkcode jsonBody} is read by
 *   `routes/_body.ts` (its byte limit, its nesting limit, any content type)
 *   and then parsed with the definition's schema; the handler gets it from
 *   `c.req.valid("json")`. The library's own body validator is not used: it
 *   would buffer a body of any size and refuse one sent without
 *   `Content-Type: application/json`.
 * - Headers (`Idempotency-Key`, `If-Match`, `If-None-Match`) are documented
 *   here and read by the handlers with the helpers of `routes/_params.ts`.
 *
 * @module
 */
import {
  OpenAPIHono,
  type RouteConfig,
  type RouteHandler,
  type RouteHook,
  z,
} from "@hono/zod-openapi";
import type { Context } from "hono";
import { ValidationError } from "../src/errors.ts";
import { parse } from "../src/inputs.ts";
import { errorSchema } from "./_responses.ts";
import { BODY_LIMIT, readJson } from "./_body.ts";
import { paramLabel } from "./_params.ts";
import type { AppEnv } from "./auth.ts";

/** The router type of every route module. */
export type Api = OpenAPIHono<AppEnv>;

/** A router with a document: any `OpenAPIHono`, whatever its environment. */
export type Documented = Pick<Api, "openAPIRegistry">;

/** A new router for a route module. */
export function api(): Api {
  return new OpenAPIHono<AppEnv>();
}

/** How {@linkcode route} reads a body declared with {@linkcode jsonBody}. */
interface BodyReader {
  schema: z.ZodType;
  what: string;
  limit: number;
  /** What an empty body reads as: `{}` for objects, nothing for a JSON Patch. */
  empty: unknown;
}

const readers = new WeakMap<object, BodyReader>();

/** Options of {@linkcode jsonBody}. */
export interface JsonBodyOptions<T extends z.ZodType> {
  /** What the body is, for the message of a 400: `Invalid <what>`. */
  what: string;
  /** A body that validates, shown in the document. */
  example?: z.input<T>;
  /** Byte limit; over it is 413. Default: one message (1 MiB) and its envelope. */
  limit?: number;
  /** What an empty body reads as. Default `{}`. */
  empty?: unknown;
  /** Said in the document above the schema. */
  description?: string;
}

/**
 * A JSON request body parsed with `schema`. It is `required` in the
 * document when an empty body (read as `opts.empty`) does not validate.
 */
export function jsonBody<T extends z.ZodType>(
  schema: T,
  opts: JsonBodyOptions<T>,
): {
  description?: string;
  required: boolean;
  content: { "application/json": { schema: T; example?: unknown } };
} {
  const empty = "empty" in opts ? opts.empty : {};
  const body = {
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    required: !schema.safeParse(empty).success,
    content: {
      "application/json": {
        schema,
        ...(opts.example !== undefined ? { example: opts.example } : {}),
      },
    },
  };
  readers.set(body, { schema, what: opts.what, limit: opts.limit ?? BODY_LIMIT, empty });
  return body;
}

/** A JSON answer with `schema`, described, with an example that validates. */
export function ok<T extends z.ZodType>(
  schema: T,
  description: string,
  example?: z.output<T>,
): { description: string; content: { "application/json": { schema: T; example?: unknown } } } {
  return {
    description,
    content: {
      "application/json": { schema, ...(example !== undefined ? { example } : {}) },
    },
  };
}

/** An answer without a body. */
export function empty(description: string): { description: string } {
  return { description };
}

/** Error statuses the API answers with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 426 | 503;

const ERRORS: Record<ErrorStatus, { description: string; code: string; message: string }> = {
  400: {
    description: "Invalid input: `details` holds zod's issues",
    code: "invalid",
    message: "Invalid query",
  },
  401: {
    description: "A server token is configured, and the request has none or a wrong one",
    code: "unauthorized",
    message: "Missing or invalid bearer token",
  },
  403: {
    description: "The session token does not reach this route",
    code: "forbidden",
    message: "Token reaches session 'demo' only",
  },
  404: {
    description: "The session, or the record or file named, does not exist",
    code: "not_found",
    message: "Session 'demo' not found",
  },
  409: {
    description: "Not allowed in the current status, or an id already taken",
    code: "invalid_transition",
    message: "Cannot resume completed session",
  },
  412: {
    description: "`If-Match` did not name the current version",
    code: "precondition_failed",
    message: "Version is 7, not 5",
  },
  413: {
    description: "Over a size limit",
    code: "too_large",
    message: "Body is over the limit of 1114112 bytes",
  },
  426: {
    description: "Not a WebSocket upgrade",
    code: "upgrade_required",
    message: "Expected a WebSocket upgrade",
  },
  503: {
    description: "A store is unavailable; nothing was applied, and the request may be retried",
    code: "unavailable",
    message: "A store is unavailable",
  },
};

type ErrorResponse = ReturnType<typeof errorResponse>;

function errorResponse(status: ErrorStatus) {
  const { description, code, message } = ERRORS[status];
  return {
    description,
    content: {
      "application/json": { schema: errorSchema, example: { error: { code, message } } },
    },
  };
}

/** The error answers of `statuses`, each in the envelope `{"error": {"code", "message", "details?"}}`. */
export function errors<const S extends readonly ErrorStatus[]>(
  ...statuses: S
): { [K in S[number]]: ErrorResponse } {
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(s)])) as {
    [K in S[number]]: ErrorResponse;
  };
}

/** `security: []`: a route that needs no token even when one is configured. */
export const PUBLIC: { security: never[] } = { security: [] };

/**
 * Declares a route on `app`: `def` goes into the document (with 401 and 403
 * unless it is {@linkcode PUBLIC}), its parameters and query are validated
 * by the library, and its {@linkcode jsonBody} is read and parsed before
 * `handler` runs.
 *
 * @example
 * ```ts
 * import { z } from "@hono/zod-openapi";
 * import { api, errors, ok, route } from "./_openapi.ts";
 * const app = api();
 * route(app, {
 *   method: "get",
 *   path: "/ping",
 *   summary: "Answers pong",
 *   responses: { 200: ok(z.object({ pong: z.boolean() }), "Pong"), ...errors(400) },
 * }, (c) => c.json({ pong: true }, 200));
 * ```
 */
export function route<R extends RouteConfig>(
  app: Api,
  def: R,
  handler: RouteHandler<R, AppEnv>,
): void {
  documented(app, def);
  const { body, headers: _documented, ...checked } = def.request ?? {};
  const reader = body === undefined ? undefined : readers.get(body);
  if (body !== undefined && reader === undefined && isJson(body.content)) {
    throw new Error(`Route ${def.method} ${def.path}: declare its JSON body with jsonBody()`);
  }
  const run = reader === undefined
    ? handler
    : async (c: Context<AppEnv>, next: () => Promise<void>) => {
      const value = await readJson(c.req.raw, reader.limit);
      const parsed = parse(reader.schema, value === undefined ? reader.empty : value, reader.what);
      c.req.addValidatedData("json", parsed as object);
      return await (handler as (c: Context<AppEnv>, next: () => Promise<void>) => unknown)(c, next);
    };
  // The definition without its body and headers: the library validates params and query only.
  const validated = { ...def, request: checked, hide: true };
  // deno-lint-ignore no-explicit-any -- the handler's types come from `def`, checked above
  app.openapi(validated as RouteConfig, run as any, invalid(def) as any);
}

/**
 * Puts `def` in the document of `app`, with 401 and 403 unless it is
 * {@linkcode PUBLIC}. Called alone, it documents a route whose handler
 * checks its own input (the WebSocket upgrade, which tests also mount
 * alone) or that is declared with plain Hono elsewhere (health, inspector).
 */
export function documented(app: Documented, def: RouteConfig): void {
  const open = Array.isArray(def.security) && def.security.length === 0;
  app.openAPIRegistry.registerPath({
    ...def,
    responses: open ? def.responses : { ...def.responses, ...errors(401, 403) },
  });
}

function isJson(content: object): boolean {
  return Object.keys(content).some((type) => /^application\/([\w.-]+\+)?json/i.test(type));
}

/** The validation hook: a failed parameter or query is a 400 with zod's issues. */
function invalid<R extends RouteConfig>(def: R): RouteHook<R, AppEnv> {
  return (result) => {
    if (result.success) return;
    const issues = result.error.issues;
    let what: string = result.target;
    if (result.target === "param") {
      const key = String(issues[0]?.path[0] ?? "");
      const params = def.request?.params;
      const schema = params instanceof z.ZodObject ? params.shape[key] : undefined;
      what = (schema && paramLabel(schema)) ?? `parameter '${key}'`;
    }
    throw new ValidationError(`Invalid ${what}`, issues);
  };
}
