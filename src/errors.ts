/**
 * One error family for the whole runtime. Every error a caller can see is a
 * {@linkcode DenizenError} with a stable `code` and an HTTP `status`; the Hono
 * app renders them as `{"error": {"code", "message", "details?"}}`.
 *
 * @module
 */

/** Base class: a condition with a stable code, an HTTP status and a message that is safe to show. */
export class DenizenError extends Error {
  /** Stable machine-readable code, e.g. `not_found`. */
  readonly code: string;
  /** The HTTP status this condition maps to. */
  readonly status: number;
  /** Extra structured detail (zod issues, limits). */
  readonly details?: unknown;

  /** An error with `code`, HTTP `status`, a safe `message` and optional `details`. */
  constructor(code: string, status: number, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** 400: input failed validation. */
export class ValidationError extends DenizenError {
  /** `details` carries zod's issues, when any. */
  constructor(message: string, details?: unknown) {
    super("invalid", 400, message, details);
  }
}

/** 401: no or bad credentials. */
export class UnauthorizedError extends DenizenError {
  /** Code `unauthorized`. */
  constructor(message = "Missing or invalid bearer token") {
    super("unauthorized", 401, message);
  }
}

/** 403: credentials do not reach this resource. */
export class ForbiddenError extends DenizenError {
  /** Code `forbidden`. */
  constructor(message = "Token does not grant access to this session") {
    super("forbidden", 403, message);
  }
}

/** 404: the thing does not exist. */
export class NotFoundError extends DenizenError {
  /** Code `not_found`; `message` names what is missing. */
  constructor(message: string) {
    super("not_found", 404, message);
  }
}

/** 404 for a session id. */
export class SessionNotFoundError extends NotFoundError {
  /** Reads `Session '<id>' not found`. */
  constructor(id: string) {
    super(`Session '${id}' not found`);
  }
}

/** 409: an illegal lifecycle transition. */
export class TransitionError extends DenizenError {
  /** Code `invalid_transition`; `details` usually carries the id and current status. */
  constructor(message: string, details?: unknown) {
    super("invalid_transition", 409, message, details);
  }
}

/** 409: a concurrent writer won, or an id is taken. */
export class ConflictError extends DenizenError {
  /** Code `conflict`. */
  constructor(message: string) {
    super("conflict", 409, message);
  }
}

/** 412: `If-Match` or `ifVersion` did not match the current version. */
export class PreconditionError extends DenizenError {
  /** Code `precondition_failed`, with the `expected` and `actual` versions. */
  constructor(expected: number, actual: number) {
    super("precondition_failed", 412, `Version is ${actual}, not ${expected}`, {
      expected,
      actual,
    });
  }
}

/** 413: input exceeds a size limit. */
export class TooLargeError extends DenizenError {
  /** Code `too_large`; `details` usually carries the size and the limit. */
  constructor(message: string, details?: unknown) {
    super("too_large", 413, message, details);
  }
}

/** 429: too many requests. */
export class RateLimitError extends DenizenError {
  /** Code `rate_limited`. */
  constructor(message = "Too many requests") {
    super("rate_limited", 429, message);
  }
}

/** 503: a store is unavailable or the runtime is closing; the client may retry. */
export class UnavailableError extends DenizenError {
  /** Code `unavailable`. */
  constructor(message: string) {
    super("unavailable", 503, message);
  }
}
