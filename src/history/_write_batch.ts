/**
 * The write path of the history store: one drained batch, applied inside a
 * transaction the caller opened. Idempotent: events are unique by
 * (session_id, seq) and only events inserted now are materialized. An
 * approval's row is upserted by (session_id, id) and keeps the record of its
 * highest seq, so that events of one approval may come in any order.
 *
 * @module
 */
import { type Compilable, CompiledQuery, type Insertable, type Kysely, sql } from "kysely";
import { type HistoryBatch, newestSessions, type SessionRecord } from "./history_store.ts";
import type { SessionEvent } from "../session.ts";
import type {
  ApprovalsTable,
  EventsTable,
  HistoryDatabase,
  SessionsTable,
  SqlDialectName,
} from "./history_database.ts";
import {
  APPROVAL_EVENTS,
  eventToRow,
  materialize,
  sessionToRow,
  SUMMARY_COLUMNS,
} from "./_rows.ts";

/** Rows per statement at most; fewer are sent as power-of-two groups (see {@linkcode insertRows}). */
const ROWS_PER_STATEMENT = 256;

/** Bound parameters one statement may carry, per engine. */
const MAX_PARAMS: Record<SqlDialectName, number> = { sqlite: 32766, postgres: 65535 };

/** Splits `rows` so that no statement binds more parameters than the engine allows. */
export function* chunks<T extends object>(
  rows: readonly T[],
  dialect: SqlDialectName,
): Generator<T[]> {
  if (rows.length === 0) return;
  const per = Math.max(1, Math.floor(MAX_PARAMS[dialect] / Object.keys(rows[0]).length));
  for (let i = 0; i < rows.length; i += per) yield rows.slice(i, i + per);
}

/** SQL text of insert statements, by engine, statement name, columns and row count. */
const compiled = new Map<string, string>();

/**
 * Inserts rows that all have the same columns through statements compiled
 * once per row count: groups of {@linkcode ROWS_PER_STATEMENT}, then the
 * rest in power-of-two groups (256 + 128 + 64 + … rows), so a connection
 * prepares a few texts once and never builds a query per batch. `build`
 * makes the statement for `rows`; its text is compiled once and its
 * parameters are the rows' values in column order.
 */
async function insertRows<R extends object, O>(
  trx: Kysely<HistoryDatabase>,
  dialect: SqlDialectName,
  name: string,
  rows: readonly R[],
  build: (rows: R[]) => Compilable<O>,
): Promise<O[]> {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]) as (keyof R)[];
  const per = Math.min(ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS[dialect] / columns.length));
  const out: O[] = [];
  for (let i = 0; i < rows.length;) {
    let n = per;
    while (n > rows.length - i) n >>= 1;
    const group = rows.slice(i, i + n);
    i += n;
    const key = `${dialect}|${name}|${columns.join()}|${n}`;
    let text = compiled.get(key);
    if (text === undefined) {
      const query = build(group).compile();
      if (query.parameters.length !== n * columns.length) {
        throw new Error(`Statement '${name}' does not bind one parameter per column and row`);
      }
      compiled.set(key, text = query.sql);
    }
    const parameters: unknown[] = [];
    for (const row of group) {
      if (Object.keys(row).length !== columns.length) {
        throw new Error(`Rows of '${name}' differ in their columns`);
      }
      for (const c of columns) parameters.push(row[c]);
    }
    const result = await trx.executeQuery<O>(CompiledQuery.raw(text, parameters));
    for (const r of result.rows) out.push(r);
  }
  return out;
}

/** Options of {@linkcode writeBatch}. */
export interface WriteBatchOptions {
  dialect: SqlDialectName;
  /** Checkpoints kept per session, besides the newest final one. */
  keepCheckpoints: number;
}

function distinctEvents(events: readonly SessionEvent[]): SessionEvent[] {
  const byKey = new Map<string, SessionEvent>();
  for (const e of events) {
    const key = `${e.seq}:${e.sessionId}`;
    if (!byKey.has(key)) byKey.set(key, e);
  }
  return [...byKey.values()];
}

/** Every column an upsert overwrites: all but the id. */
const UPDATED_COLUMNS: readonly (keyof SessionsTable)[] = [
  ...SUMMARY_COLUMNS.filter((c) => c !== "id"),
  "state",
  "coordination",
  "search_text",
];

async function upsertSessions(
  trx: Kysely<HistoryDatabase>,
  sessions: readonly SessionRecord[],
  dialect: SqlDialectName,
): Promise<void> {
  const records = newestSessions(sessions);
  const rows: Insertable<SessionsTable>[] = records.map(sessionToRow);
  const upserted = await insertRows(
    trx,
    dialect,
    "sessions",
    rows,
    (some) =>
      trx.insertInto("sessions").values(some)
        .onConflict((oc) =>
          oc.column("id")
            .doUpdateSet(Object.fromEntries(
              UPDATED_COLUMNS.map((c) => [c, sql.ref(`excluded.${c}`)]),
            ))
            .whereRef("sessions.version", "<=", "excluded.version")
        )
        .returning("id"),
  );
  const applied = new Set(upserted.map((r) => r.id));
  // Tags never change after creation and agents rarely do: rewrite the filter rows of a
  // session only when the upsert changed them.
  const applied2 = records.filter((s) => applied.has(s.id));
  const before = new Map<string, { tags: string[]; agents: string[] }>();
  for (let i = 0; i < applied2.length; i += 5000) {
    const some = applied2.slice(i, i + 5000).map((s) => s.id);
    for (const id of some) before.set(id, { tags: [], agents: [] });
    const tagRows = await trx.selectFrom("session_tags").select(["session_id", "tag"])
      .where("session_id", "in", some).execute();
    const agentRows = await trx.selectFrom("session_agents").select(["session_id", "agent"])
      .where("session_id", "in", some).execute();
    for (const r of tagRows) before.get(r.session_id)!.tags.push(r.tag);
    for (const r of agentRows) before.get(r.session_id)!.agents.push(r.agent);
  }
  const same = (a: string[], b: string[]) =>
    JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());
  const tagsChanged = applied2.filter((s) => !same(s.tags, before.get(s.id)!.tags));
  const agentsChanged = applied2.filter((s) =>
    !same(Object.keys(s.agents), before.get(s.id)!.agents)
  );
  for (let i = 0; i < tagsChanged.length; i += 5000) {
    const some = tagsChanged.slice(i, i + 5000).map((s) => s.id);
    await trx.deleteFrom("session_tags").where("session_id", "in", some).execute();
  }
  for (let i = 0; i < agentsChanged.length; i += 5000) {
    const some = agentsChanged.slice(i, i + 5000).map((s) => s.id);
    await trx.deleteFrom("session_agents").where("session_id", "in", some).execute();
  }
  const tags = tagsChanged.flatMap((s) =>
    [...new Set(s.tags)].map((tag) => ({ session_id: s.id, tag }))
  );
  for (const chunk of chunks(tags, dialect)) {
    await trx.insertInto("session_tags").values(chunk).execute();
  }
  const agents = agentsChanged.flatMap((s) =>
    Object.keys(s.agents).map((agent) => ({ session_id: s.id, agent }))
  );
  for (const chunk of chunks(agents, dialect)) {
    await trx.insertInto("session_agents").values(chunk).execute();
  }
}

/** Tables keyed by (session id, seq), whose rows come from events. */
type SeqTable = "events" | "messages" | "results" | "checkpoints";

/** Inserts `rows` into `table`, leaving rows already there (same session id and seq) as they are. */
function insertNew<T extends SeqTable>(
  trx: Kysely<HistoryDatabase>,
  table: T,
  rows: Insertable<HistoryDatabase[T]>[],
) {
  return trx.insertInto(table).values(rows)
    .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing());
}

/** Event types that `materialize` turns into rows of their own. */
const MATERIALIZED = new Set(["message", "result", "checkpoint", ...APPROVAL_EVENTS]);

/**
 * Inserts events, skipping those already there. Returns the newly inserted
 * events of the types that are materialized; only those need to be known,
 * so the other events (most of them) are inserted without `RETURNING`.
 */
async function insertEvents(
  trx: Kysely<HistoryDatabase>,
  events: readonly SessionEvent[],
  dialect: SqlDialectName,
): Promise<SessionEvent[]> {
  const distinct = distinctEvents(events);
  const tracked = distinct.filter((e) => MATERIALIZED.has(e.type));
  const plain = distinct.filter((e) => !MATERIALIZED.has(e.type));
  const insert = (rows: Insertable<EventsTable>[]) => insertNew(trx, "events", rows);
  await insertRows(trx, dialect, "events", plain.map(eventToRow), insert);
  const out = await insertRows(
    trx,
    dialect,
    "events returning",
    tracked.map(eventToRow),
    (rows) => insert(rows).returning(["session_id", "seq"]),
  );
  const inserted = new Set(out.map((r) => `${Number(r.seq)}:${r.session_id}`));
  return tracked.filter((e) => inserted.has(`${e.seq}:${e.sessionId}`));
}

async function pruneCheckpoints(
  trx: Kysely<HistoryDatabase>,
  sessionId: string,
  keep: number,
): Promise<void> {
  await trx.deleteFrom("checkpoints")
    .where("session_id", "=", sessionId)
    .where(
      "seq",
      "not in",
      (eb) =>
        eb.selectFrom("checkpoints").select("seq").where("session_id", "=", sessionId)
          .orderBy("seq", "desc").limit(keep),
    )
    .where(
      "seq",
      "not in",
      (eb) =>
        eb.selectFrom("checkpoints").select("seq").where("session_id", "=", sessionId)
          .where("final", "=", 1).orderBy("seq", "desc").limit(1),
    )
    .execute();
}

/** Columns an approval's upsert overwrites: all but its key. */
const APPROVAL_COLUMNS = ["seq", "status", "deadline", "requested_at", "approval"] as const;

/**
 * Upserts approval rows, keeping per approval the row of the highest seq,
 * among `rows` and against the stored one.
 */
async function upsertApprovals(
  trx: Kysely<HistoryDatabase>,
  dialect: SqlDialectName,
  rows: readonly Insertable<ApprovalsTable>[],
): Promise<void> {
  // One row per key: a statement may not update the same row twice (PostgreSQL refuses).
  const newest = new Map<string, Insertable<ApprovalsTable>>();
  for (const r of rows) {
    const key = JSON.stringify([r.session_id, r.id]);
    const seen = newest.get(key);
    if (!seen || seen.seq < r.seq) newest.set(key, r);
  }
  await insertRows(
    trx,
    dialect,
    "approvals",
    [...newest.values()],
    (some) =>
      trx.insertInto("approvals").values(some)
        .onConflict((oc) =>
          oc.columns(["session_id", "id"])
            .doUpdateSet(Object.fromEntries(
              APPROVAL_COLUMNS.map((c) => [c, sql.ref(`excluded.${c}`)]),
            ))
            .whereRef("approvals.seq", "<", "excluded.seq")
        ),
  );
}

/** Applies one batch inside the transaction `trx`. */
export async function writeBatch(
  trx: Kysely<HistoryDatabase>,
  batch: HistoryBatch,
  options: WriteBatchOptions,
): Promise<void> {
  const { dialect } = options;
  await upsertSessions(trx, batch.sessions, dialect);
  const fresh = await insertEvents(trx, batch.events, dialect);
  const { messages, results, checkpoints, approvals } = materialize(fresh);
  await insertRows(trx, dialect, "messages", messages, (r) => insertNew(trx, "messages", r));
  await insertRows(trx, dialect, "results", results, (r) => insertNew(trx, "results", r));
  await insertRows(
    trx,
    dialect,
    "checkpoints",
    checkpoints,
    (r) => insertNew(trx, "checkpoints", r),
  );
  for (const sessionId of new Set(checkpoints.map((c) => c.session_id))) {
    await pruneCheckpoints(trx, sessionId, options.keepCheckpoints);
  }
  await upsertApprovals(trx, dialect, approvals);
}
