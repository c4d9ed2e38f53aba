/**
 * Formatting for people: relative times, countdowns, sizes, short JSON.
 *
 * @module
 */

/**
 * "12s ago", "3m ago", "2h ago", "4d ago".
 *
 * @param {string | number | undefined} at ISO-8601 or epoch ms
 * @param {number} [now]
 * @returns {string}
 */
export function ago(at, now = Date.now()) {
  if (at === undefined) return "never";
  const ms = now - (typeof at === "number" ? at : Date.parse(at));
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1500) return "just now";
  return `${span(ms)} ago`;
}

/**
 * "in 4m 10s", or "overdue 3s" once past.
 *
 * @param {string | number | undefined} at
 * @param {number} [now]
 * @returns {string}
 */
export function countdown(at, now = Date.now()) {
  if (at === undefined) return "";
  const ms = (typeof at === "number" ? at : Date.parse(at)) - now;
  if (!Number.isFinite(ms)) return "—";
  return ms >= 0 ? `in ${span(ms, true)}` : `overdue ${span(-ms, true)}`;
}

/**
 * A duration in the two largest units ("4m 10s"), or one unit when `fine` is false.
 *
 * @param {number} ms
 * @param {boolean} [fine]
 * @returns {string}
 */
function span(ms, fine = false) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return fine ? `${m}m ${s % 60}s` : `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return fine ? `${hours}h ${m % 60}m` : `${hours}h`;
  const d = Math.floor(hours / 24);
  return fine ? `${d}d ${hours % 24}h` : `${d}d`;
}

/**
 * Local date and time, to the second.
 *
 * @param {string | undefined} at
 * @returns {string}
 */
export function when(at) {
  if (!at) return "";
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

/**
 * Time of day, to the second.
 *
 * @param {string} at
 * @returns {string}
 */
export function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleTimeString([], { hour12: false });
}

/**
 * "1.2 MB".
 *
 * @param {number} n
 * @returns {string}
 */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * JSON on one line, cut to `max` characters.
 *
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string}
 */
export function short(value, max = 120) {
  let s;
  try {
    s = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  if (s === undefined) return "";
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Pretty JSON, cut to `max` characters so that a huge value cannot freeze the page.
 *
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string}
 */
export function pretty(value, max = 200_000) {
  let s;
  try {
    s = JSON.stringify(value, null, 2);
  } catch {
    s = String(value);
  }
  if (s === undefined) return "undefined";
  return s.length > max ? `${s.slice(0, max)}\n… (${s.length - max} more characters)` : s;
}
