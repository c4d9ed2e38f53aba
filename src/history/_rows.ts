/**
 * Mapping between the TypeScript records of the history interface and SQL
 * rows: optional fields become null columns and back, JSON becomes text.
 *
 * @module
 */
import type { Insertable, Selectable } from "kysely";
import type { Approval, Coordination } from "../coordination/model.ts";
import type { SessionEvent, Status } from "../session.ts";
import type {
  Checkpoint,
  InboxApproval,
  Message,
  ResultRow,
  SessionRecord,
  SessionSummary,
} from "./history_store.ts";
import type {
  ApprovalsTable,
  CheckpointsTable,
  EventsTable,
  MessagesTable,
  ResultsTable,
  SessionsTable,
} from "./history_database.ts";
import { sessionSearchText } from "./_search.ts";

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function parse(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/** Copies `value` into `out[key]` unless it is null or undefined. */
function opt<T extends object, K extends keyof T>(
  out: T,
  key: K,
  value: T[K] | null | undefined,
): void {
  if (value !== null && value !== undefined) out[key] = value;
}

/** The `sessions` row of a record. */
export function sessionToRow(s: SessionRecord): Insertable<SessionsTable> {
  return {
    id: s.id,
    kind: s.kind,
    name: s.name ?? null,
    tags: JSON.stringify(s.tags),
    meta: JSON.stringify(s.meta),
    status: s.status,
    phase: s.phase,
    version: s.version,
    progress: s.progress,
    agents: JSON.stringify(s.agents),
    ttl: JSON.stringify(s.ttl),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    completed_at: s.completedAt ?? null,
    expires_at: s.expiresAt,
    state: json(s.state),
    report: json(s.report),
    error: s.error ?? null,
    origin: json(s.origin),
    archive: s.archive ?? null,
    search_text: sessionSearchText(s),
    // Outbox entries written before coordination have no counts.
    pending_approvals: s.pendingApprovals ?? 0,
    open_conflicts: s.openConflicts ?? 0,
    coordination: json(s.coordination),
  };
}

/** The columns a listing reads: everything but state, coordination and the search text. */
export const SUMMARY_COLUMNS = [
  "id",
  "kind",
  "name",
  "tags",
  "meta",
  "status",
  "phase",
  "version",
  "progress",
  "agents",
  "ttl",
  "created_at",
  "updated_at",
  "completed_at",
  "expires_at",
  "report",
  "error",
  "origin",
  "archive",
  "pending_approvals",
  "open_conflicts",
] as const;

type SummaryRow = Pick<Selectable<SessionsTable>, (typeof SUMMARY_COLUMNS)[number]>;

/** A session summary from its row. */
export function summaryFromRow(r: SummaryRow): SessionSummary {
  const s: SessionSummary = {
    id: r.id,
    kind: r.kind,
    tags: JSON.parse(r.tags),
    meta: JSON.parse(r.meta),
    status: r.status as Status,
    phase: r.phase,
    agents: JSON.parse(r.agents),
    progress: Number(r.progress),
    pendingApprovals: Number(r.pending_approvals),
    openConflicts: Number(r.open_conflicts),
    version: Number(r.version),
    ttl: JSON.parse(r.ttl),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
  };
  opt(s, "name", r.name);
  opt(s, "completedAt", r.completed_at);
  opt(s, "report", parse(r.report));
  opt(s, "error", r.error);
  opt(s, "origin", parse(r.origin) as SessionSummary["origin"]);
  opt(s, "archive", r.archive);
  return s;
}

/** The columns `getSession` reads: a summary's, and what only terminal rows hold. */
export const RECORD_COLUMNS = [...SUMMARY_COLUMNS, "state", "coordination"] as const;

/** A full record, with state and coordination when stored, from its row. */
export function recordFromRow(
  r: Pick<Selectable<SessionsTable>, (typeof RECORD_COLUMNS)[number]>,
): SessionRecord {
  const s: SessionRecord = summaryFromRow(r);
  opt(s, "state", parse(r.state) as Record<string, unknown> | undefined);
  opt(s, "coordination", parse(r.coordination) as Coordination | undefined);
  return s;
}

/** The `events` row of an event. */
export function eventToRow(e: SessionEvent): Insertable<EventsTable> {
  return {
    session_id: e.sessionId,
    seq: e.seq,
    type: e.type,
    agent: e.agent ?? null,
    data: json(e.data),
    at: e.at,
  };
}

/** An event from its row. */
export function eventFromRow(r: Selectable<EventsTable>): SessionEvent {
  const e: SessionEvent = {
    sessionId: r.session_id,
    seq: Number(r.seq),
    type: r.type,
    data: parse(r.data),
    at: r.at,
  };
  opt(e, "agent", r.agent);
  return e;
}

/** A message from its row. */
export function messageFromRow(r: Selectable<MessagesTable>): Message {
  const m: Message = { id: r.id, seq: Number(r.seq), role: r.role, content: r.content, at: r.at };
  opt(m, "meta", parse(r.meta) as Record<string, unknown> | undefined);
  opt(m, "agent", r.agent);
  return m;
}

/** A result from its row. */
export function resultFromRow(r: Selectable<ResultsTable>): ResultRow {
  const out: ResultRow = {
    seq: Number(r.seq),
    key: r.key,
    partial: Number(r.partial) === 1,
    bytes: Number(r.bytes),
    at: r.at,
  };
  opt(out, "agent", r.agent);
  opt(out, "data", parse(r.data));
  opt(out, "blob", r.blob);
  return out;
}

/** A checkpoint from its row. */
export function checkpointFromRow(r: Selectable<CheckpointsTable>): Checkpoint {
  const c: Checkpoint = {
    id: r.id,
    seq: Number(r.seq),
    version: Number(r.version),
    final: Number(r.final) === 1,
    state: JSON.parse(r.state),
    at: r.at,
  };
  opt(c, "label", r.label);
  const extra = parse(r.extra) as Pick<Checkpoint, "agents" | "phase" | "coordination"> | undefined;
  opt(c, "agents", extra?.agents);
  opt(c, "phase", extra?.phase);
  opt(c, "coordination", extra?.coordination);
  return c;
}

/** Rows to insert for the events of one batch that were not there before. */
export interface Materialized {
  messages: Insertable<MessagesTable>[];
  results: Insertable<ResultsTable>[];
  checkpoints: Insertable<CheckpointsTable>[];
  /** One row per `approval.*` event: an approval changed twice in a batch has two. */
  approvals: Insertable<ApprovalsTable>[];
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** `iso` as UTC with milliseconds (`toISOString`), so that text order is time order. */
function utc(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString();
}

/** The `approvals` row an `approval.*` event carries, or undefined when its record is unusable. */
function approvalRow(
  e: SessionEvent,
  d: Record<string, unknown>,
): Insertable<ApprovalsTable> | undefined {
  const a = d.approval as Partial<Approval> | null | undefined;
  if (a === null || typeof a !== "object") return undefined;
  const { id, status, deadline, requestedAt } = a;
  if (
    typeof id !== "string" || typeof status !== "string" || typeof deadline !== "string" ||
    typeof requestedAt !== "string"
  ) return undefined;
  return {
    session_id: e.sessionId,
    id,
    seq: e.seq,
    status,
    deadline: utc(deadline),
    requested_at: requestedAt,
    approval: JSON.stringify(a),
  };
}

/** An approval of the inbox from its row. */
export function approvalFromRow(
  r: Pick<Selectable<ApprovalsTable>, "session_id" | "approval">,
): InboxApproval {
  return { ...JSON.parse(r.approval) as Approval, session: r.session_id };
}

/** The events that write an approval's row: each carries the whole record after the change. */
export const APPROVAL_EVENTS: ReadonlySet<string> = new Set([
  "approval.requested",
  "approval.decided",
  "approval.expired",
]);

/** Messages, results, checkpoints and approvals carried by `events`; other events are skipped. */
export function materialize(events: readonly SessionEvent[]): Materialized {
  const out: Materialized = { messages: [], results: [], checkpoints: [], approvals: [] };
  for (const e of events) {
    if (e.data === null || typeof e.data !== "object") continue;
    const d = e.data as Record<string, unknown>;
    const base = { session_id: e.sessionId, seq: e.seq, at: e.at };
    if (e.type === "message") {
      out.messages.push({
        ...base,
        id: String(d.id ?? e.seq),
        role: String(d.role ?? ""),
        content: String(d.content ?? ""),
        meta: json(d.meta),
        agent: e.agent ?? null,
      });
    } else if (e.type === "result") {
      out.results.push({
        ...base,
        agent: str(d.agent) ?? e.agent ?? null,
        key: String(d.key ?? ""),
        partial: d.partial === true ? 1 : 0,
        data: json(d.data),
        blob: str(d.blob),
        bytes: Number(d.bytes ?? 0),
      });
    } else if (e.type === "checkpoint") {
      out.checkpoints.push({
        ...base,
        id: String(d.id ?? e.seq),
        version: Number(d.version ?? e.seq),
        label: str(d.label),
        final: d.final === true ? 1 : 0,
        state: JSON.stringify(d.state ?? {}),
        extra: d.agents === undefined && d.phase === undefined && d.coordination === undefined
          ? null
          : JSON.stringify({ agents: d.agents, phase: d.phase, coordination: d.coordination }),
      });
    } else if (APPROVAL_EVENTS.has(e.type)) {
      const row = approvalRow(e, d);
      if (row) out.approvals.push(row);
    }
  }
  return out;
}
