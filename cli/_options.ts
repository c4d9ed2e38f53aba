/**
 * Parsers for the CLI's option values: each turns bad input into a usage
 * error (exit code 2) that says what was expected.
 *
 * @module
 */
import {
  type ApprovalStatus,
  recordId,
  TASK_STATUSES,
  type TaskStatus,
} from "../src/coordination/model.ts";
import { parseDuration } from "../src/duration.ts";
import { ID_PATTERN, type Status, STATUSES } from "../src/session.ts";
import { usageError } from "./cli_error.ts";

/** A session id, checked before anything is opened. */
export function sessionIdArg(value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw usageError(`Invalid session id '${value.slice(0, 140)}': use ${ID_PATTERN.source}`);
  }
  return value;
}

/** The id of an approval, a task or another record of a session (SPEC §9). */
export function recordIdArg(what: string): (value: string) => string {
  return (value) => {
    if (!recordId.safeParse(value).success) {
      throw usageError(`Invalid ${what} id '${value.slice(0, 140)}': use 1-128 of [A-Za-z0-9_.:-]`);
    }
    return value;
  };
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
  return _oneOf("--status", STATUSES, value);
}

/** Where an approval stands (SPEC §9.2). */
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ["pending", "decided", "expired"];

/** An approval status. */
export function approvalStatusArg(value: string): ApprovalStatus {
  return _oneOf("--status", APPROVAL_STATUSES, value);
}

/** A task status (SPEC §9.3). */
export function taskStatusArg(value: string): TaskStatus {
  return _oneOf("--status", TASK_STATUSES, value);
}

function _oneOf<T extends string>(name: string, values: readonly T[], value: string): T {
  if (!(values as readonly string[]).includes(value)) {
    throw usageError(`${name} must be one of ${values.join(", ")}, not '${value}'`);
  }
  return value as T;
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
