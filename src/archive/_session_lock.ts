/**
 * Import and archive write a session outside its actor (history rows, blobs,
 * a file), so two of them on one id must not interleave. This lock covers
 * one process; several instances on a shared store are not coordinated.
 *
 * @module
 */
import { ConflictError } from "../errors.ts";

const busy = new WeakMap<object, Set<string>>();

/**
 * Runs `fn` while `id` is held for `owner` (the runtime's archive host); a second caller
 * gets a 409 at once instead of waiting.
 *
 * @example
 * ```ts
 * await withSessionLock(host, "s1", () => writeEverything());
 * ```
 */
export async function withSessionLock<T>(
  owner: object,
  id: string,
  fn: () => Promise<T>,
): Promise<T> {
  let ids = busy.get(owner);
  if (ids === undefined) busy.set(owner, ids = new Set());
  if (ids.has(id)) {
    throw new ConflictError(`Session '${id}' is being imported or archived; retry`);
  }
  ids.add(id);
  try {
    return await fn();
  } finally {
    ids.delete(id);
  }
}
