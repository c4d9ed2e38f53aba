/**
 * zod schemas for path parameters, query strings and the headers the REST
 * routes understand (`Idempotency-Key`, `If-Match`, `If-None-Match`), and
 * the readers of those headers.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
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

const labels = new WeakMap<z.ZodType, string>();

/**
 * `schema` as a path parameter: named `label` in a 400 ("Invalid session id"), with an example.
 * zod's own `.meta()`, not `.openapi()`: a schema made before `@hono/zod-openapi` extended zod
 * (those of `src/`, in some import orders) lacks that method.
 */
function pathParam<T extends z.ZodType>(schema: T, label: string, example: string): T {
  const param = schema.meta({ example, description: `The ${label}` });
  labels.set(param, label);
  return param;
}

/** What a path parameter's schema is called in errors, if it was made by {@linkcode pathParam}. */
export function paramLabel(schema: z.ZodType): string | undefined {
  return labels.get(schema);
}

/** Path parameters, by their name in the routes. */
export const params = {
  id: pathParam(sessionId, "session id", "demo"),
  cp: pathParam(checkpointId, "checkpoint id", "01JH3Q5X2M8V4C9T7R6B0N1K2P"),
  agent: pathParam(agentName, "agent name", "scout"),
  name: pathParam(actionName, "action name", "add"),
  timer: pathParam(recordId, "timer id", "tm5"),
  task: pathParam(recordId, "task id", "search"),
  approval: pathParam(recordId, "approval id", "ap3"),
  conflict: pathParam(recordId, "conflict id", "cf9"),
};

/** `{id}`: the routes of one session. */
export const sessionPath = z.object({ id: params.id });

/** `Idempotency-Key`: a resent key is answered with the first result and not applied again. */
export const idempotencyHeader = z.object({
  "Idempotency-Key": commandIdSchema.optional().openapi({
    description: "The command id: a resent key gets the first answer and is not applied again",
    example: "cmd-42",
  }),
});

/** An `If-Match` value: `*`, or a version as its ETag (`"12"`) or bare (`12`). */
const IF_MATCH = /^\s*(?:\*|"(\d{1,15})"|(\d{1,15}))\s*$/;

/** `If-Match`: apply only at this version (412 otherwise). */
export const ifMatchHeader = z.object({
  "If-Match": z.string().regex(IF_MATCH).optional().openapi({
    description: 'Apply only at this version, as its ETag `"12"` (412 otherwise); `*` for any',
    example: '"12"',
  }),
});

/** `If-None-Match`: 304 when it names the current version. */
export const ifNoneMatchHeader = z.object({
  "If-None-Match": z.string().optional().openapi({
    description: "ETags of versions the client has: 304 when one is the current version",
    example: '"12"',
  }),
});

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

/** The command id: `fromBody` if given, else the `Idempotency-Key` header, validated. */
export function commandId(c: Context, fromBody?: string): string | undefined {
  const id = fromBody ?? c.req.header("Idempotency-Key");
  return id === undefined ? undefined : parse(commandIdSchema, id, "command id");
}

/** The version in `If-Match`, undefined when absent or `*`; 400 when it is not a version. */
export function ifMatch(c: Context): number | undefined {
  const raw = c.req.header("If-Match");
  if (raw === undefined) return undefined;
  const m = IF_MATCH.exec(raw);
  if (!m) {
    throw new ValidationError(`If-Match must be a version like "12"`, {
      ifMatch: raw.trim().slice(0, 64),
    });
  }
  const version = m[1] ?? m[2];
  return version === undefined ? undefined : Number(version);
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
