/**
 * The warm tier: history in SQL. One interface, implemented once with Kysely
 * and run on SQLite (`node:sqlite`) or PostgreSQL (`pg`), picked in
 * `open_history.ts`.
 *
 * Everything in SQL is derived from committed events: the outbox drainer hands
 * `write()` a batch of events plus the latest index row of every session they
 * touch, and the store materializes messages, results and checkpoints from
 * the events in the same transaction.
 *
 * @module
 */
import type { Approval, ApprovalStatus, Coordination } from "../coordination/model.ts";
import type { AgentState, Session, SessionEvent, Status } from "../session.ts";

/**
 * A session's index row. `state` and `coordination` are present for terminal
 * sessions (their final state and coordination records) and absent otherwise;
 * `searchText` is what the kind marks searchable in the state.
 */
export type SessionRecord = Omit<Session, "state"> & {
  state?: Record<string, unknown>;
  coordination?: Coordination;
  searchText?: string;
};

/** A session as listed: the index row without state. */
export type SessionSummary = Omit<Session, "state">;

/** One drained batch. */
export interface HistoryBatch {
  /** Events in any order; rows already present (same session id and seq) are left as they are. */
  events: SessionEvent[];
  /** Upserted by id; a row whose `version` is lower than the stored one is ignored. */
  sessions: SessionRecord[];
  /**
   * More of the batch as UTF-8 JSON, each an array of {@linkcode BatchEntry}
   * (the KV outbox's values as they are). The writer decodes and parses it,
   * so that a writer on a worker thread takes that off the main thread too;
   * a worker writer is handed the bytes, and the caller's arrays are then
   * emptied.
   */
  encoded?: Uint8Array[];
}

/** One session's share of an encoded batch: events and, optionally, its index row. */
export interface BatchEntry {
  /** The session's events. */
  events: SessionEvent[];
  /** Its index row as of the last of them, on a unit's last entry. */
  session?: SessionRecord;
}

/** What a written batch held: its event count and the newest status of each session in it. */
export interface BatchSummary {
  /** Events in the batch, written now or already there. */
  events: number;
  /** Each session of the batch once, at its highest version. */
  sessions: { id: string; status: Status; version: number }[];
}

const utf8 = new TextDecoder();

/** `batch` with its encoded part parsed into events and index rows. */
export function decodeBatch(
  batch: HistoryBatch,
): { events: SessionEvent[]; sessions: SessionRecord[] } {
  if (!batch.encoded?.length) return batch;
  const events = [...batch.events];
  const sessions = [...batch.sessions];
  for (const bytes of batch.encoded) {
    for (const entry of JSON.parse(utf8.decode(bytes)) as BatchEntry[]) {
      for (const e of entry.events) events.push(e);
      if (entry.session) sessions.push(entry.session);
    }
  }
  return { events, sessions };
}

/** The newest record per id: the highest version wins, the later one on a tie. */
export function newestSessions(sessions: readonly SessionRecord[]): SessionRecord[] {
  const byId = new Map<string, SessionRecord>();
  for (const s of sessions) {
    const seen = byId.get(s.id);
    if (!seen || seen.version <= s.version) byId.set(s.id, s);
  }
  return [...byId.values()];
}

/** The summary of a decoded batch. */
export function summarize(
  batch: { events: SessionEvent[]; sessions: SessionRecord[] },
): BatchSummary {
  const sessions = newestSessions(batch.sessions)
    .map(({ id, status, version }) => ({ id, status, version }));
  return { events: batch.events.length, sessions };
}

/** Filters of `GET /v1/sessions`. */
export interface ListQuery {
  /** Sessions of this status. */
  status?: Status;
  /** Sessions of this kind. */
  kind?: string;
  /** Sessions with this tag. */
  tag?: string;
  /** Sessions that have an agent of this name. */
  agent?: string;
  /**
   * Full text over id, name, tags, meta, searchable state and message
   * contents. Every word must match; against the session's own text a word
   * matches the start of a word (`acm` finds "ACME"), against messages the
   * whole word.
   */
  q?: string;
  /** Sessions created after this ISO-8601 time. */
  createdAfter?: string;
  /** Sessions created before this ISO-8601 time. */
  createdBefore?: string;
  /** `approval`: sessions with a pending approval (`pendingApprovals > 0`). */
  waiting?: "approval";
  /** `open`: sessions with an open conflict (`openConflicts > 0`). */
  conflicts?: "open";
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
  /** Also count the matching sessions by status (see {@linkcode ListPage.total}). Default false. */
  count?: boolean;
}

/** One page of sessions, ordered by `updatedAt` desc then `id` desc. */
export interface ListPage {
  /** The sessions of this page. */
  items: SessionSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
  /**
   * With `count`: every session matching the query's other filters, by
   * status, whatever the `status` filter and the cursor; 0 for a status none
   * has.
   */
  total?: Record<Status, number>;
}

/** Filters of the approvals inbox (`GET /v1/approvals`). */
export interface ApprovalQuery {
  /** Approvals of this status. */
  status?: ApprovalStatus;
  /** Approvals of this session. */
  session?: string;
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

/** An approval of the inbox, with the session that asked. */
export type InboxApproval = Approval & { session: string };

/** One page of the inbox, oldest deadline first, then by session id and approval id. */
export interface ApprovalPage {
  /** The approvals of this page. */
  items: InboxApproval[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** A conversation message, materialized from a `message` event. */
export interface Message {
  /** Client-given or generated message id. */
  id: string;
  /** Seq of its event. */
  seq: number;
  /** Who speaks, such as `user` or `assistant`. */
  role: string;
  /** The message text. */
  content: string;
  /** Free-form metadata. */
  meta?: Record<string, unknown>;
  /** The agent that sent it, when known. */
  agent?: string;
  /** ISO-8601 commit time. */
  at: string;
}

/** An agent result, materialized from a `result` event. */
export interface ResultRow {
  /** Seq of its event. */
  seq: number;
  /** The agent that produced it. */
  agent?: string;
  /** What the result is about. */
  key: string;
  /** True for an intermediate result. */
  partial: boolean;
  /** Inline data; absent when it lives in the blob store. */
  data?: unknown;
  /** Blob store key, for results over the inline limit. */
  blob?: string;
  /** Size of the data's JSON in UTF-8 bytes. */
  bytes: number;
  /** ISO-8601 commit time. */
  at: string;
}

/** A checkpoint, materialized from a `checkpoint` event. */
export interface Checkpoint {
  /** The checkpoint's id. */
  id: string;
  /** Seq of its event. */
  seq: number;
  /** The session version whose state it holds. */
  version: number;
  /** A caller's label, or `pause` and `final` for automatic ones. */
  label?: string;
  /** True for the checkpoint taken when the session ended. */
  final: boolean;
  /** The state at `version`. */
  state: Record<string, unknown>;
  /** The coordination records at `version`; absent when there were none. */
  coordination?: Coordination;
  /** The agents at `version` (checkpoints from before 0.3 lack them). */
  agents?: Record<string, AgentState>;
  /** The phase at `version` (checkpoints from before 0.3 lack it). */
  phase?: string;
  /** ISO-8601 commit time. */
  at: string;
}

/** Rules of seed 002: what `cleanupCandidates` selects. */
export interface RetentionRules {
  /** Now, as ISO-8601. */
  now: string;
  /** Terminal (completed, failed, expired) sessions whose `updatedAt` is older than this many days. Default 30. */
  olderThanDays?: number;
  /** Never select the K most recent completed sessions. Default 10. */
  keepCompleted?: number;
  /** Also select every failed session, whatever its age. Default false. */
  failed?: boolean;
}

/** The history store. Every method may throw; callers map store failures to 503. */
export interface HistoryStore {
  /** `"sqlite"` or `"postgres"`. */
  readonly dialect: string;
  /** Creates or upgrades the schema (Kysely `Migrator`). Idempotent. */
  migrate(): Promise<void>;
  /** Writes one drained batch in one transaction. Idempotent. */
  write(batch: HistoryBatch): Promise<BatchSummary>;
  /** The index row of one session, with state when terminal. */
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** List and search. */
  listSessions(query: ListQuery): Promise<ListPage>;
  /** The approvals inbox across sessions, as their last drained `approval.*` events left them. */
  approvals(query: ApprovalQuery): Promise<ApprovalPage>;
  /** Events with `seq > after`, ascending, at most `limit` (default 1000). */
  events(id: string, opts?: { after?: number; limit?: number }): Promise<SessionEvent[]>;
  /** Highest drained seq of a session, 0 when none. */
  lastSeq(id: string): Promise<number>;
  /** Messages with `seq < before` (all when absent), newest `limit` of them (default 50), returned in ascending seq. */
  messages(id: string, opts?: { before?: number; limit?: number }): Promise<Message[]>;
  /** Number of messages in a session. */
  countMessages(id: string): Promise<number>;
  /** Results in ascending seq; `latest` keeps only the newest row per (agent, key). */
  results(
    id: string,
    opts?: { agent?: string; key?: string; latest?: boolean; after?: number; limit?: number },
  ): Promise<ResultRow[]>;
  /** Checkpoints, newest first, with state. */
  checkpoints(id: string): Promise<Checkpoint[]>;
  /** One checkpoint by id. */
  checkpoint(id: string, checkpointId: string): Promise<Checkpoint | undefined>;
  /** Ids of active or paused sessions whose `expiresAt` is before `now`. */
  expiredCandidates(now: string, limit: number): Promise<string[]>;
  /** Ids selected by the retention rules. */
  cleanupCandidates(rules: RetentionRules): Promise<string[]>;
  /** Removes every row of a session. Returns the blob keys its results referenced. */
  deleteSession(id: string): Promise<string[]>;
  /** Number of sessions, by status. */
  countSessions(): Promise<Record<string, number>>;
  /** Approvals waiting for a decision, across sessions (the inbox's size). */
  countPendingApprovals(): Promise<number>;
  /** A cheap query, for readiness. */
  ping(): Promise<void>;
  /** Closes the connection or file. */
  close(): Promise<void>;
}
