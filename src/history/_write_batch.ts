/**
 * The write path of the history store: one drained batch, applied inside a
 * transaction the caller opened. Idempotent: events are unique by
 * (session_id, seq) and only events inserted now are materialized.
 *
 * @module
 */
import { type Insertable, type Kysely, sql } from "kysely";
import type { HistoryBatch, SessionRecord } from "./history_store.ts";
import type { SessionEvent } from "../session.ts";
import type { HistoryDatabase, SessionsTable, SqlDialectName } from "./history_database.ts";
import { eventToRow, materialize, sessionToRow, SUMMARY_COLUMNS } from "./_rows.ts";

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

/** Options of {@linkcode writeBatch}. */
export interface WriteBatchOptions {
  dialect: SqlDialectName;
  /** Checkpoints kept per session, besides the newest final one. */
  keepCheckpoints: number;
}

/** The newest record per id: the highest version wins, the later one on a tie. */
function newestSessions(sessions: readonly SessionRecord[]): SessionRecord[] {
  const byId = new Map<string, SessionRecord>();
  for (const s of sessions) {
    const seen = byId.get(s.id);
    if (!seen || seen.version <= s.version) byId.set(s.id, s);
  }
  return [...byId.values()];
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
  "search_text",
];

async function upsertSessions(
  trx: Kysely<HistoryDatabase>,
  sessions: readonly SessionRecord[],
  dialect: SqlDialectName,
): Promise<void> {
  const records = newestSessions(sessions);
  const rows: Insertable<SessionsTable>[] = records.map(sessionToRow);
  const applied = new Set<string>();
  for (const chunk of chunks(rows, dialect)) {
    const out = await trx.insertInto("sessions").values(chunk)
      .onConflict((oc) =>
        oc.column("id")
          .doUpdateSet(Object.fromEntries(
            UPDATED_COLUMNS.map((c) => [c, sql.ref(`excluded.${c}`)]),
          ))
          .whereRef("sessions.version", "<=", "excluded.version")
      )
      .returning("id")
      .execute();
    for (const r of out) applied.add(r.id);
  }
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

/** Event types that `materialize` turns into rows of their own. */
const MATERIALIZED = new Set(["message", "result", "checkpoint"]);

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
  for (const chunk of chunks(plain.map(eventToRow), dialect)) {
    await trx.insertInto("events").values(chunk)
      .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing())
      .execute();
  }
  const inserted = new Set<string>();
  for (const chunk of chunks(tracked.map(eventToRow), dialect)) {
    const out = await trx.insertInto("events").values(chunk)
      .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing())
      .returning(["session_id", "seq"])
      .execute();
    for (const r of out) inserted.add(`${Number(r.seq)}:${r.session_id}`);
  }
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

/** Applies one batch inside the transaction `trx`. */
export async function writeBatch(
  trx: Kysely<HistoryDatabase>,
  batch: HistoryBatch,
  options: WriteBatchOptions,
): Promise<void> {
  const { dialect } = options;
  await upsertSessions(trx, batch.sessions, dialect);
  const fresh = await insertEvents(trx, batch.events, dialect);
  const { messages, results, checkpoints } = materialize(fresh);
  for (const chunk of chunks(messages, dialect)) {
    await trx.insertInto("messages").values(chunk)
      .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing()).execute();
  }
  for (const chunk of chunks(results, dialect)) {
    await trx.insertInto("results").values(chunk)
      .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing()).execute();
  }
  for (const chunk of chunks(checkpoints, dialect)) {
    await trx.insertInto("checkpoints").values(chunk)
      .onConflict((oc) => oc.columns(["session_id", "seq"]).doNothing()).execute();
  }
  for (const sessionId of new Set(checkpoints.map((c) => c.session_id))) {
    await pruneCheckpoints(trx, sessionId, options.keepCheckpoints);
  }
}
