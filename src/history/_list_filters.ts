/**
 * The WHERE clauses of a session listing, shaped so that a page stays quick
 * at any match rate.
 *
 * A filter held in a side table (tag, agent, full text) can run two ways: as
 * `id IN (matches)`, which reads every match and sorts them, or as a probe
 * per session while the listing index is read in order, which stops after
 * one page. The first is quick when few sessions match, the second when many
 * do. On SQLite, whose planner cannot tell, each such filter first counts
 * its matches up to {@linkcode BROAD} and picks. PostgreSQL's planner has
 * statistics and gets the `IN` form.
 *
 * @module
 */
import { type Expression, type ExpressionBuilder, type Kysely, sql, type SqlBool } from "kysely";
import type { ListQuery } from "./history_store.ts";
import type { HistoryDatabase, SqlDialectName } from "./history_database.ts";
import { fts5Match, queryWords, tsQuery } from "./_search.ts";
import { decodeCursor } from "./_cursor.ts";

/** Matches above which a filter is probed in listing order rather than collected and sorted. */
const BROAD = 2000;

type Eb = ExpressionBuilder<HistoryDatabase, "sessions">;
type Condition = (eb: Eb) => Expression<SqlBool>;

/** Whether the rows of `subquery` reach {@linkcode BROAD}. */
async function isBroad(
  db: Kysely<HistoryDatabase>,
  subquery: Expression<unknown>,
): Promise<boolean> {
  const { rows } = await sql<
    { n: number }
  >`select count(*) as n from (${subquery} limit ${BROAD}) t`
    .execute(db);
  return Number(rows[0]?.n ?? 0) >= BROAD;
}

async function sideTable(
  db: Kysely<HistoryDatabase>,
  dialect: SqlDialectName,
  table: "session_tags" | "session_agents",
  value: string,
): Promise<Condition> {
  const column = table === "session_tags" ? "tag" : "agent";
  const matches = sql`select session_id from ${sql.table(table)} where ${
    sql.ref(column)
  } = ${value}`;
  if (dialect === "sqlite" && await isBroad(db, matches)) {
    return () =>
      sql<SqlBool>`exists (select 1 from ${
        sql.table(table)
      } x where x.session_id = sessions.id and x.${sql.ref(column)} = ${value})`;
  }
  return () => sql<SqlBool>`sessions.id in (${matches})`;
}

async function sqliteFullText(
  db: Kysely<HistoryDatabase>,
  words: readonly string[],
): Promise<Condition> {
  const match = fts5Match(words, "whole");
  const inSessions = sql`select rowid from sessions_fts where sessions_fts match ${
    fts5Match(words, "prefix")
  }`;
  const inMessages = sql`select rowid from messages_fts where messages_fts match ${match}`;
  const [broadSessions, broadMessages] = [
    await isBroad(db, inSessions),
    await isBroad(db, inMessages),
  ];
  // A leading `+` keeps the planner from driving the query from the matches: it reads the
  // listing index in order and looks each row up in the collected matches instead.
  const sessionSide = broadSessions
    ? sql`+sessions.rowid in (${inSessions})`
    : sql`sessions.rowid in (${inSessions})`;
  const messageSide = broadMessages
    ? sql`exists (select 1 from messages m where m.session_id = sessions.id and exists (select 1 from messages_fts f where f.rowid = m.rowid and messages_fts match ${match}))`
    : sql`sessions.id in (select m.session_id from messages m where m.rowid in (${inMessages}))`;
  return () => sql<SqlBool>`(${sessionSide} or ${messageSide})`;
}

function postgresFullText(words: readonly string[]): Condition {
  const own = sql`to_tsquery('simple', ${tsQuery(words, "prefix")})`;
  const q = sql`to_tsquery('simple', ${tsQuery(words, "whole")})`;
  return () =>
    sql<
      SqlBool
    >`(sessions.search @@ ${own} or sessions.id in (select m.session_id from messages m where m.tsv @@ ${q}))`;
}

/** Every condition of `query`, ready for `where`; an empty list when nothing filters. */
export async function listConditions(
  db: Kysely<HistoryDatabase>,
  dialect: SqlDialectName,
  query: ListQuery,
): Promise<Condition[]> {
  const out: Condition[] = [];
  const { status, kind, createdAfter, createdBefore } = query;
  if (status !== undefined) out.push((eb) => eb("status", "=", status));
  if (kind !== undefined) out.push((eb) => eb("kind", "=", kind));
  if (createdAfter !== undefined) out.push((eb) => eb("created_at", ">", createdAfter));
  if (createdBefore !== undefined) out.push((eb) => eb("created_at", "<", createdBefore));
  // Literal conditions, the same as those of the partial indexes that serve them.
  if (query.waiting === "approval") out.push(() => sql<SqlBool>`sessions.pending_approvals > 0`);
  if (query.conflicts === "open") out.push(() => sql<SqlBool>`sessions.open_conflicts > 0`);
  if (query.cursor !== undefined) {
    const [updatedAt, id] = decodeCursor(query.cursor, 2);
    out.push((eb) => eb(eb.refTuple("updated_at", "id"), "<", eb.tuple(updatedAt, id)));
  }
  if (query.tag !== undefined) out.push(await sideTable(db, dialect, "session_tags", query.tag));
  if (query.agent !== undefined) {
    out.push(await sideTable(db, dialect, "session_agents", query.agent));
  }
  const words = queryWords(query.q ?? "");
  if (words.length > 0) {
    out.push(dialect === "postgres" ? postgresFullText(words) : await sqliteFullText(db, words));
  }
  return out;
}
