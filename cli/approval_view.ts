/**
 * How approvals read in a terminal: the inbox table of `approvals`, the line
 * of a decision, and the error of a refused one.
 *
 * @module
 */
import type { Approval } from "../src/coordination/model.ts";
import { DenizenError } from "../src/errors.ts";
import type { InboxApproval } from "../src/history/history_store.ts";
import { formatTable } from "./table.ts";
import { timeLeft } from "./time_left.ts";

/**
 * The `approvals` table, one row per approval: the time left to a pending
 * one's deadline, or how a past one ended.
 *
 * @example
 * ```ts
 * console.log(approvalTable((await rt.inbox({ status: "pending" })).items, Date.now()));
 * ```
 */
export function approvalTable(items: readonly InboxApproval[], now: number): string {
  const pending = items.every((a) => a.status === "pending");
  return formatTable(
    [
      "SESSION",
      "ID",
      "PROMPT",
      "OPTIONS",
      "DEADLINE",
      pending ? "LEFT" : "OUTCOME",
      "REQUESTED BY",
    ],
    items.map((a) => [
      a.session,
      a.id,
      a.prompt,
      a.options.join(", "),
      a.deadline,
      a.status === "pending" ? timeLeft(a.deadline, now) : _outcome(a),
      a.agent ?? "-",
    ]),
  );
}

/**
 * The line printed when a decision is recorded.
 *
 * @example
 * ```ts
 * decisionLine("s1", approval); // "Approval 'plan' of session 's1' decided: approve by alice"
 * ```
 */
export function decisionLine(session: string, a: Approval): string {
  return `Approval '${a.id}' of session '${session}' ${_outcome(a)}`;
}

/**
 * A refused decision, with the options when the one given is not offered
 * (a 400 carries them in `details.options`).
 *
 * @example
 * ```ts
 * throw decisionError(error); // "Option 'maybe' is not offered by approval 'plan': the options are approve, reject"
 * ```
 */
export function decisionError(error: unknown): unknown {
  if (!(error instanceof DenizenError) || error.status !== 400) return error;
  const options = (error.details as { options?: unknown } | undefined)?.options;
  if (!Array.isArray(options)) return error;
  return new DenizenError(
    error.code,
    error.status,
    `${error.message}: the options are ${options.join(", ")}`,
    error.details,
  );
}

function _outcome(a: Approval): string {
  if (a.status === "expired") return `expired${a.reason ? ` (${a.reason})` : ""}`;
  if (a.status === "pending") return "pending";
  return `decided: ${a.option}${a.by ? ` by ${a.by}` : ""}`;
}
