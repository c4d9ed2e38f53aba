/**
 * zod schemas and readers for path parameters, query strings and the
 * headers the REST routes understand (`Idempotency-Key`, `If-Match`,
 * `If-None-Match`).
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { recordId } from "../src/coordination/model.ts";
import { ValidationError } from "../src/errors.ts";
import { agentName, parse } from "../src/inputs.ts";
import { ID_PATTERN, sessionId } from "../src/session.ts";

/** A checkpoint id: the same alphabet as session ids. */
export const checkpointId = z.string().regex(
  ID_PATTERN,
  "Checkpoint ids match ^[A-Za-z0-9_-]{1,128}$",
);

const actionName = z.string().regex(
  /^[A-Za-z0-9_.-]{1,64}$/,
  "Action names are 1-64 of [A-Za-z0-9_.-]",
);

/** A client command id, from a body `id` or the `Idempotency-Key` header. */
export const commandIdSchema = z.string().regex(
  /^[\x21-\x7e]{1,128}$/,
  "Command ids are 1-128 printable ASCII characters",
);

/** A non-negative integer in a query string. */
export const count = z.string().regex(/^\d{1,15}$/, "Expected a non-negative integer")
  .transform(Number);

/** A positive integer in a query string. */
export const positive = count.pipe(z.number().int().min(1));

/** `true`/`false`/`1`/`0` in a query string. */
export const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** A query string that takes no parameters. */
export const noQuery = z.object({}).strict();

/** A body that takes no fields (empty or `{}`). */
export const emptyBody = z.object({}).strict();

/** The validated `:id` of the route. */
export function sessionParam(c: Context): string {
  return parse(sessionId, c.req.param("id"), "session id");
}

/** The validated `:cp` of the route. */
export function checkpointParam(c: Context): string {
  return parse(checkpointId, c.req.param("cp"), "checkpoint id");
}

/** The validated `:agent` of the route. */
export function agentParam(c: Context): string {
  return parse(agentName, c.req.param("agent"), "agent name");
}

/** The validated `:name` of the route. */
export function actionParam(c: Context): string {
  return parse(actionName, c.req.param("name"), "action name");
}

/** The validated coordination record id in path parameter `name` (`tid`, `aid`, `cid`); `what` names it in errors. */
export function recordParam(c: Context, name: string, what: string): string {
  return parse(recordId, c.req.param(name), what);
}

/** The query string parsed with `schema` (strict: unknown parameters are 400). */
export function query<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  return parse(schema, c.req.query(), "query");
}

/** The command id: `fromBody` if given, else the `Idempotency-Key` header, validated. */
export function commandId(c: Context, fromBody?: string): string | undefined {
  const id = fromBody ?? c.req.header("Idempotency-Key");
  return id === undefined ? undefined : parse(commandIdSchema, id, "command id");
}

/** The version in `If-Match`, undefined when absent or `*`; 400 when it is not a version. */
export function ifMatch(c: Context): number | undefined {
  const raw = c.req.header("If-Match")?.trim();
  if (raw === undefined || raw === "*") return undefined;
  const m = /^"(\d{1,15})"$/.exec(raw) ?? /^(\d{1,15})$/.exec(raw);
  if (!m) {
    throw new ValidationError(`If-Match must be a version like "12"`, {
      ifMatch: raw.slice(0, 64),
    });
  }
  return Number(m[1]);
}

/** True when `If-None-Match` names `version` (or is `*`). */
export function notModified(c: Context, version: number): boolean {
  const raw = c.req.header("If-None-Match");
  if (raw === undefined) return false;
  return raw.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === `"${version}"`;
  });
}

/** The ETag of a version. */
export function etag(version: number): string {
  return `"${version}"`;
}
