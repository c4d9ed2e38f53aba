/**
 * The one place errors become responses: `{"error": {"code", "message",
 * "details?"}}` with the error family's status.
 *
 * @module
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DenizenError } from "../src/errors.ts";

/** Renders an error of the family, or a 500 (a bug) for anything else. */
export const onError: ErrorHandler = (err, c) => {
  if (err instanceof DenizenError) {
    return problem(c, err.status, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return problem(c, err.status, "http_error", err.message || "Bad request");
  }
  console.error("unexpected error:", err);
  return problem(c, 500, "internal", "Internal error");
};

/** Unknown routes say which route was not found. */
export const notFound: NotFoundHandler = (c) =>
  problem(c, 404, "not_found", `Route '${c.req.method} ${c.req.path.slice(0, 256)}' not found`);

/** An error response. */
export function problem(
  c: Context,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): Response {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return c.json({ error }, status as ContentfulStatusCode);
}
