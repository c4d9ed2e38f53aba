/**
 * The SQL tables of the history tier, as Kysely sees them. Columns are
 * snake_case; JSON is stored as text, timestamps as ISO-8601 text and
 * booleans as 0 or 1, so one set of queries runs on SQLite and PostgreSQL.
 *
 * @module
 */

/** `sessions`: one index row per session. */
export interface SessionsTable {
  id: string;
  kind: string;
  name: string | null;
  /** JSON array. */
  tags: string;
  /** JSON object. */
  meta: string;
  status: string;
  phase: string;
  version: number;
  progress: number;
  /** JSON object. */
  agents: string;
  /** JSON object. */
  ttl: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  expires_at: string;
  /** JSON object, terminal sessions only. */
  state: string | null;
  report: string | null;
  error: string | null;
  origin: string | null;
  archive: string | null;
  /** Id, name, tags, meta values and searchable state as plain words: what full text indexes. */
  search_text: string;
  /** Approvals waiting for a decision; 0 on rows older than coordination. */
  pending_approvals: number;
  /** Conflicts not yet resolved; 0 on rows older than coordination. */
  open_conflicts: number;
  /** JSON object, terminal sessions only: their final coordination records. */
  coordination: string | null;
}

/** `session_tags`: one row per (session, tag), for the tag filter. */
export interface SessionTagsTable {
  session_id: string;
  tag: string;
}

/** `session_agents`: one row per (session, agent name), for the agent filter. */
export interface SessionAgentsTable {
  session_id: string;
  agent: string;
}

/** `events`: every drained event, unique by (session_id, seq). */
export interface EventsTable {
  session_id: string;
  seq: number;
  type: string;
  agent: string | null;
  /** JSON, null when the event had no data. */
  data: string | null;
  at: string;
}

/** `messages`: materialized from `message` events. */
export interface MessagesTable {
  session_id: string;
  seq: number;
  id: string;
  role: string;
  content: string;
  meta: string | null;
  agent: string | null;
  at: string;
}

/** `results`: materialized from `result` events. */
export interface ResultsTable {
  session_id: string;
  seq: number;
  agent: string | null;
  key: string;
  partial: number;
  data: string | null;
  blob: string | null;
  bytes: number;
  at: string;
}

/** `checkpoints`: materialized from `checkpoint` events, newest N kept. */
export interface CheckpointsTable {
  session_id: string;
  seq: number;
  id: string;
  version: number;
  label: string | null;
  final: number;
  state: string;
  /** JSON of the checkpoint's `agents`, `phase` and `coordination`, when it has any. */
  extra: string | null;
  at: string;
}

/** `approvals`: each approval as its last drained `approval.*` event left it. */
export interface ApprovalsTable {
  session_id: string;
  id: string;
  /** Seq of the event that wrote the row; an older event never overwrites it. */
  seq: number;
  /** `pending`, `decided` or `expired`. */
  status: string;
  /** ISO-8601 UTC, so that text order is time order. */
  deadline: string;
  requested_at: string;
  /** JSON of the whole record. */
  approval: string;
}

/** `blobs`: the SQL blob store. */
export interface BlobsTable {
  key: string;
  bytes: Uint8Array;
}

/** Every table of the history database. */
export interface HistoryDatabase {
  sessions: SessionsTable;
  session_tags: SessionTagsTable;
  session_agents: SessionAgentsTable;
  events: EventsTable;
  messages: MessagesTable;
  results: ResultsTable;
  checkpoints: CheckpointsTable;
  approvals: ApprovalsTable;
  blobs: BlobsTable;
}

/** Which SQL engine a store runs on. */
export type SqlDialectName = "sqlite" | "postgres";
