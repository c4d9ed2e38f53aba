/**
 * A write refused for want of space (a full disk, a used-up quota) becomes a
 * 503 the client may retry once space is back, rather than a 500. SPEC §4
 * lists 503 for a store that cannot serve; the same call succeeds after the
 * operator frees space, which is what a client that retries 503 needs.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";

/** The error codes of a write refused for want of space. */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/**
 * A 503 saying that `what` (a file or directory) could not be written for
 * want of space, when `error` says so; otherwise `error` unchanged.
 *
 * @example
 * ```ts
 * try {
 *   await Deno.writeFile(path, bytes);
 * } catch (error) {
 *   throw diskFull(error, `blob file '${path}'`);
 * }
 * ```
 */
export function diskFull(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !NO_SPACE.has(code)) return error;
  return new UnavailableError(
    `No space left to write ${what} (${code}); free some disk space and retry`,
  );
}
