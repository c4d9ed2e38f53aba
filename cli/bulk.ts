/**
 * Commands that work through many sessions, one at a time, with a
 * progress bar: `cleanup` and `archive --all-terminal`.
 *
 * @module
 */
import { type CleanupRules, listAll, type SessionsBackend } from "./backend.ts";
import { asCliError } from "./cli_error.ts";
import { Progress } from "./progress.ts";

/** What a bulk command did. */
export interface BulkOutcome<T> {
  /** Items that succeeded. */
  done: T[];
  /** Ids that failed, with why. */
  failed: { id: string; error: string }[];
}

/**
 * Deletes what the retention rules select (or only lists it, with `dryRun`).
 *
 * @example
 * ```ts
 * const { done } = await cleanup(backend, { olderThanDays: 30, keepCompleted: 10, failed: false }, {});
 * ```
 */
export async function cleanup(
  backend: SessionsBackend,
  rules: CleanupRules,
  opts: { dryRun?: boolean; progress?: boolean },
): Promise<BulkOutcome<string>> {
  const ids = await backend.cleanupCandidates(rules);
  if (opts.dryRun) return { done: ids, failed: [] };
  return await _each("Deleting", ids, opts.progress, async (id) => {
    await backend.delete(id);
    return id;
  });
}

/**
 * Archives every completed, failed and expired session.
 *
 * @example
 * ```ts
 * const { done, failed } = await archiveAllTerminal(backend, { progress: true });
 * ```
 */
export async function archiveAllTerminal(
  backend: SessionsBackend,
  opts: { progress?: boolean },
): Promise<BulkOutcome<{ id: string; archive?: string }>> {
  const ids = (await listAll(backend, ["completed", "failed", "expired"])).map((s) => s.id);
  return await _each("Archiving", ids, opts.progress, async (id) => {
    const s = await backend.archive(id);
    return { id, archive: s.archive };
  });
}

/** Runs `fn` on every id in turn; a failure is recorded and the rest go on. */
async function _each<T>(
  label: string,
  ids: string[],
  progress: boolean | undefined,
  fn: (id: string) => Promise<T>,
): Promise<BulkOutcome<T>> {
  const bar = new Progress(label, ids.length, { enabled: progress || undefined });
  const outcome: BulkOutcome<T> = { done: [], failed: [] };
  for (const id of ids) {
    try {
      outcome.done.push(await fn(id));
    } catch (error) {
      outcome.failed.push({ id, error: asCliError(error).message });
    }
    bar.tick(id);
  }
  bar.done();
  return outcome;
}
