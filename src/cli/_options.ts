/**
 * Parsers for the CLI's option values: each turns bad input into a usage
 * error (exit code 2) that says what was expected.
 *
 * @module
 */
import { parseDuration } from "../duration.ts";
import { ID_PATTERN, type Status, STATUSES } from "../session.ts";
import { usageError } from "./cli_error.ts";

/** A session id, checked before anything is opened. */
export function sessionIdArg(value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw usageError(`Invalid session id '${value.slice(0, 140)}': use ${ID_PATTERN.source}`);
  }
  return value;
}

/** An integer from `min` to `max`. */
export function intArg(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw usageError(`${name} must be an integer from ${min} to ${max}, not '${value}'`);
    }
    return n;
  };
}

/** A duration like `30d` or `12h` (or `0d`: any age), in days. */
export function daysArg(value: string): number {
  if (/^0+(?:ms|s|m|h|d)?$/.test(value.trim())) return 0;
  try {
    return parseDuration(value) / 86_400_000;
  } catch {
    throw usageError(`--older-than must be a duration like 30d, 12h or 90m, not '${value}'`);
  }
}

/** A status of SPEC §1. */
export function statusArg(value: string): Status {
  if (!(STATUSES as readonly string[]).includes(value)) {
    throw usageError(`--status must be one of ${STATUSES.join(", ")}, not '${value}'`);
  }
  return value as Status;
}

/** A JSON document. */
export function jsonArg(name: string): (value: string) => unknown {
  return (value) => {
    try {
      return JSON.parse(value);
    } catch (error) {
      throw usageError(`${name} must be JSON: ${(error as Error).message}`);
    }
  };
}
