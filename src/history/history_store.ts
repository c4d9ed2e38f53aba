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
import type { Session, SessionEvent, Status } from "../session.ts";

/** A session's index row. `state` is present for terminal sessions (their final state) and absent otherwise. */
export type SessionRecord = Omit<Session, "state"> & { state?: Record<string, unknown> };

/** A session as listed: the index row without state. */
export type SessionSummary = Omit<Session, "state">;

/** One drained batch. */
export interface HistoryBatch {
  /** Events in any order; rows already present (same session id and seq) are left as they are. */
  events: SessionEvent[];
  /** Upserted by id; a row whose `version` is lower than the stored one is ignored. */
  sessions: SessionRecord[];
}

/** Filters of `GET /v1/sessions`. */
export interface ListQuery {
  status?: Status;
  kind?: string;
  tag?: string;
  /** Sessions that have an agent of this name. */
  agent?: string;
  /** Full text over name, tags, meta and message contents. */
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

/** One page of sessions, ordered by `updatedAt` desc then `id` desc. */
export interface ListPage {
  items: SessionSummary[];
  nextCursor?: string;
}

/** A conversation message, materialized from a `message` event. */
export interface Message {
  /** Client-given or generated message id. */
  id: string;
  seq: number;
  role: string;
  content: string;
  meta?: Record<string, unknown>;
  agent?: string;
  at: string;
}

/** An agent result, materialized from a `result` event. */
export interface ResultRow {
  seq: number;
  agent?: string;
  key: string;
  partial: boolean;
  /** Inline data; absent when it lives in the blob store. */
  data?: unknown;
  /** Blob store key, for results over the inline limit. */
  blob?: string;
  bytes: number;
  at: string;
}

/** A checkpoint, materialized from a `checkpoint` event. */
export interface Checkpoint {
  id: string;
  seq: number;
  version: number;
  label?: string;
  final: boolean;
  state: Record<string, unknown>;
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
  write(batch: HistoryBatch): Promise<void>;
  /** The index row of one session, with state when terminal. */
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** List and search. */
  listSessions(query: ListQuery): Promise<ListPage>;
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
  /** A cheap query, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
