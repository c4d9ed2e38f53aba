/**
 * How a session's plan reads in a terminal: the table of `tasks`.
 *
 * @module
 */
import type { Task } from "../src/coordination/model.ts";
import { formatTable } from "./table.ts";
import { timeLeft } from "./time_left.ts";

/**
 * The `tasks` table, one row per task in the order tasks were added: who
 * holds it and how long the lease has left, the attempt, and its deps.
 *
 * @example
 * ```ts
 * console.log(taskTable(await rt.tasks("s1"), Date.now()));
 * ```
 */
export function taskTable(tasks: readonly Task[], now: number): string {
  return formatTable(
    ["ID", "TITLE", "STATUS", "HOLDER", "LEASE", "ATTEMPT", "DEPS"],
    tasks.map((t) => [
      t.id,
      t.title,
      t.gate ? `${t.status} (approval ${t.gate})` : t.status,
      t.holder ?? "-",
      t.status === "claimed" && t.leaseUntil ? timeLeft(t.leaseUntil, now) : "-",
      `${t.attempt}/${t.maxAttempts}`,
      t.deps.length > 0 ? t.deps.join(", ") : "-",
    ]),
  );
}
