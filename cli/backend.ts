/**
 * What the `sessions` CLI needs from Denizen, behind one interface: the
 * local data directory (a runtime opened in this process) or a running
 * server (its HTTP API).
 *
 * @module
 */
import type {
  Approval,
  ApprovalStatus,
  DecisionInput,
  Task,
  TaskStatus,
} from "../src/coordination/model.ts";
import type {
  ApprovalPage,
  ApprovalQuery,
  ListPage,
  ListQuery,
} from "../src/history/history_store.ts";
import type { Session } from "../src/session.ts";

/** The retention rules of `cleanup` (seed 002), as the CLI takes them. */
export interface CleanupRules {
  /** Terminal sessions not updated for this many days. */
  olderThanDays: number;
  /** Never the K most recently updated completed sessions. */
  keepCompleted: number;
  /** Also every failed session, whatever its age. */
  failed: boolean;
}

/** One way to reach sessions. Every method throws a `DenizenError` (404, 409, …) on failure. */
export interface SessionsBackend {
  /** Where this backend works, for messages: a directory or a URL. */
  readonly where: string;
  /** One page of sessions, most recently updated first. */
  list(query: ListQuery): Promise<ListPage>;
  /** One session, hot or cold. */
  get(id: string): Promise<Session>;
  /** active → paused. */
  pause(id: string): Promise<Session>;
  /** paused → active. */
  resume(id: string): Promise<Session>;
  /** active or paused → completed, with an optional report. */
  complete(id: string, report?: unknown): Promise<Session>;
  /** The archive of SPEC §6, streamed. */
  export(id: string): Promise<ReadableStream<Uint8Array>>;
  /** A new session from an archive; 409 when its id exists. */
  import(body: ReadableStream<Uint8Array>): Promise<Session>;
  /** completed, failed or expired → archived. */
  archive(id: string): Promise<Session>;
  /** Removes a session everywhere. */
  delete(id: string): Promise<void>;
  /** Ids `cleanup` would delete, oldest first. */
  cleanupCandidates(rules: CleanupRules): Promise<string[]>;
  /** One page of the approvals inbox across sessions, oldest deadline first (SPEC §9.2). */
  inbox(query: Omit<ApprovalQuery, "session">): Promise<ApprovalPage>;
  /** Every approval of one session, oldest deadline first; `status` filters. */
  approvals(id: string, status?: ApprovalStatus): Promise<Approval[]>;
  /** Decides a pending approval: 400 for an option not offered, 409 when decided or expired. */
  decide(id: string, approvalId: string, decision: DecisionInput): Promise<Approval>;
  /** A session's plan, in the order its tasks were added; `status` filters (SPEC §9.3). */
  tasks(id: string, status?: TaskStatus): Promise<Task[]>;
  /** Releases the runtime or connection. */
  close(): Promise<void>;
}

/**
 * Every session of the given statuses, following `nextCursor` to the end.
 *
 * @example
 * ```ts
 * const done = await listAll(backend, ["completed", "failed", "expired"]);
 * ```
 */
export async function listAll(
  backend: Pick<SessionsBackend, "list">,
  statuses: readonly Session["status"][],
): Promise<ListPage["items"]> {
  const items: ListPage["items"] = [];
  for (const status of statuses) {
    let cursor: string | undefined;
    do {
      const page = await backend.list({ status, limit: 500, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  return items;
}
