/**
 * How long until a deadline or a lease ends, as a person reads it.
 *
 * @module
 */

const UNITS: readonly [string, number][] = [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]];

/**
 * The time from `now` until `until` in its two largest units, or how long
 * ago it passed, as `overdue …`.
 *
 * @example
 * ```ts
 * timeLeft("2025-01-01T00:30:00Z", Date.parse("2025-01-01T00:00:00Z")); // "30m"
 * timeLeft("2025-01-01T00:00:00Z", Date.parse("2025-01-01T01:02:03Z")); // "overdue 1h 2m"
 * ```
 */
export function timeLeft(until: string, now: number): string {
  const ms = Date.parse(until) - now;
  if (!Number.isFinite(ms)) return "-";
  const span = _span(Math.floor(Math.abs(ms) / 1000));
  return ms >= 0 ? span : `overdue ${span}`;
}

/** `seconds` as its largest unit and the next one when that is not zero: `1d 4h`, `2h`, `45s`. */
function _span(seconds: number): string {
  const first = UNITS.findIndex(([, size]) => seconds >= size);
  if (first === -1) return "0s";
  const [unit, size] = UNITS[first];
  const text = `${Math.floor(seconds / size)}${unit}`;
  const next = UNITS[first + 1];
  if (next === undefined) return text;
  const rest = Math.floor((seconds % size) / next[1]);
  return rest > 0 ? `${text} ${rest}${next[0]}` : text;
}
