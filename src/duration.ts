/**
 * Durations as people write them: `"90s"`, `"5m"`, `"24h"`, `"7d"`, or
 * milliseconds as a number.
 *
 * @module
 */
import { ValidationError } from "./errors.ts";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration: milliseconds, or a string like `"24h"`. */
export type Duration = number | string;

/** Parses a duration into milliseconds; throws 400 on anything else. */
export function parseDuration(value: Duration): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value > 0) return value;
  } else {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (m) {
      const ms = Number(m[1]) * UNITS[m[2]];
      if (ms > 0 && Number.isFinite(ms)) return Math.round(ms);
    }
  }
  throw new ValidationError(`Invalid duration '${String(value)}': use e.g. 90s, 5m, 24h or 7d`);
}
