/**
 * Errors of the `sessions` CLI and the exit code each one maps to.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | ok |
 * | 1 | runtime or HTTP error (including 409 conflicts and a busy data directory) |
 * | 2 | usage error: a bad option, argument or combination, or a value the server refused as such (an option an approval does not offer) |
 * | 4 | not found: no such session, approval or task (404) |
 *
 * @module
 */
import { DenizenError } from "../src/errors.ts";

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 4 } as const;

/** An error the CLI reports on stderr and exits with. */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: number;
  /** A stable machine-readable code, shown in `--json` errors. */
  readonly code: string;

  /** Exit code 1 and code `error` unless given. */
  constructor(message: string, opts: { exitCode?: number; code?: string } = {}) {
    super(message);
    this.name = "CliError";
    this.exitCode = opts.exitCode ?? EXIT.error;
    this.code = opts.code ?? "error";
  }
}

/**
 * A usage error: exit code 2.
 *
 * @example
 * ```ts
 * throw usageError("--limit must be an integer from 1 to 500");
 * ```
 */
export function usageError(message: string): CliError {
  return new CliError(message, { exitCode: EXIT.usage, code: "usage" });
}

/**
 * The CLI form of any error: a `DenizenError` (from the local runtime, or
 * rebuilt from an HTTP answer) keeps its code, a 404 exits with 4, a 400
 * exits with 2 when `usage` says it judged input the user typed, and
 * anything else exits with 1.
 *
 * @example
 * ```ts
 * const e = asCliError(new SessionNotFoundError("s1")); // exitCode 4
 * ```
 */
export function asCliError(error: unknown, opts: { usage?: boolean } = {}): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof DenizenError) {
    const exitCode = error.status === 404
      ? EXIT.notFound
      : error.status === 400 && opts.usage
      ? EXIT.usage
      : EXIT.error;
    return new CliError(error.message, { exitCode, code: error.code });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(message, { code: "internal" });
}
