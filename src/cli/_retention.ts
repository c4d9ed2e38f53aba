/**
 * The retention rules of seed 002 applied to listed sessions, for a backend
 * that can list and delete but not select (the HTTP API has no cleanup
 * route). The same rules as the history store's `cleanupCandidates`.
 *
 * @module
 */
import type { SessionSummary } from "../history/history_store.ts";
import type { CleanupRules } from "./backend.ts";

const DAY_MS = 86_400_000;
const TERMINAL = new Set(["completed", "failed", "expired"]);

/** `a` before `b` when it was updated earlier, then by id. */
function _older(a: SessionSummary, b: SessionSummary): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Ids to delete, oldest first: terminal sessions not updated since
 * `now - olderThanDays` (and every failed one with `failed`), never one of
 * the `keepCompleted` most recently updated completed sessions.
 *
 * @example
 * ```ts
 * selectForCleanup(items, { olderThanDays: 30, keepCompleted: 10, failed: false }, Date.now());
 * ```
 */
export function selectForCleanup(
  sessions: readonly SessionSummary[],
  rules: CleanupRules,
  now: number,
): string[] {
  const cutoff = new Date(now - rules.olderThanDays * DAY_MS).toISOString();
  const kept = new Set(
    sessions.filter((s) => s.status === "completed").sort(_older).reverse()
      .slice(0, rules.keepCompleted).map((s) => s.id),
  );
  return sessions
    .filter((s) =>
      !kept.has(s.id) &&
      ((TERMINAL.has(s.status) && s.updatedAt < cutoff) || (rules.failed && s.status === "failed"))
    )
    .sort(_older)
    .map((s) => s.id);
}
