/**
 * The history store, written once over Kysely and run on SQLite or
 * PostgreSQL. The engines differ only in full text (FTS5 or `tsvector`),
 * which is branched on here, and in the schema details of `migrations.ts`.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import { type SessionEvent, type Status, STATUSES } from "../session.ts";
import {
  type ApprovalPage,
  type ApprovalQuery,
  type BatchSummary,
  type Checkpoint,
  decodeBatch,
  type HistoryBatch,
  type HistoryStore,
  type ListPage,
  type ListQuery,
  type Message,
  type ResultRow,
  type RetentionRules,
  type SessionRecord,
  summarize,
} from "./history_store.ts";
import type { HistoryDatabase, SqlDialectName } from "./history_database.ts";
import type { BlobStore } from "../blobs/blob_store.ts";
import { SqlBlobStore } from "./sql_blob_store.ts";
import { ValidationError } from "../errors.ts";
import { migrateHistory } from "./migrations.ts";
import { writeBatch } from "./_write_batch.ts";
import type { HistoryWriter } from "./worker_writer.ts";
import { decodeCursor, encodeCursor } from "./_cursor.ts";
import { listConditions } from "./_list_filters.ts";
import {
  approvalFromRow,
  checkpointFromRow,
  eventFromRow,
  messageFromRow,
  RECORD_COLUMNS,
  recordFromRow,
  resultFromRow,
  SUMMARY_COLUMNS,
  summaryFromRow,
} from "./_rows.ts";

/** Options of {@linkcode KyselyHistoryStore}. */
export interface KyselyHistoryStoreOptions {
  /** The database; the store owns it and destroys it on `close()`. */
  db: Kysely<HistoryDatabase>;
  /** The engine behind `db`. */
  dialect: SqlDialectName;
  /** Checkpoints kept per session, besides the newest final one. Default 10. */
  keepCheckpoints?: number;
  /** Where `write()` goes instead of `db` (a worker's connection); closed with the store. */
  writer?: HistoryWriter;
}

const DAY_MS = 86_400_000;

function limitOf(value: number | undefined, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ValidationError(`Limit must be an integer from 1 to ${max}`, { limit: value, max });
  }
  return n;
}

/**
 * {@linkcode HistoryStore} over Kysely, for SQLite and PostgreSQL.
 *
 * @example
 * ```ts
 * import { Kysely } from "kysely";
 * import { openSqliteDialect } from "./sqlite_dialect.ts";
 * const store = new KyselyHistoryStore({
 *   db: new Kysely({ dialect: openSqliteDialect() }),
 *   dialect: "sqlite",
 * });
 * await store.migrate();
 * console.log(await store.countSessions());
 * await store.close();
 * ```
 */
export class KyselyHistoryStore implements HistoryStore {
  readonly dialect: SqlDialectName;
  readonly #db: Kysely<HistoryDatabase>;
  readonly #keepCheckpoints: number;
  /** Where `write()` goes instead of this store's own connection, if anywhere (a worker's). */
  readonly writer: HistoryWriter | undefined;

  constructor(options: KyselyHistoryStoreOptions) {
    this.#db = options.db;
    this.writer = options.writer;
    this.dialect = options.dialect;
    this.#keepCheckpoints = Math.max(1, Math.trunc(options.keepCheckpoints ?? 10));
  }

  /** A blob store over the same database (table `blobs`); closing it leaves the database open. */
  blobStore(): BlobStore {
    return new SqlBlobStore(this.#db);
  }

  migrate(): Promise<void> {
    return migrateHistory(this.#db, this.dialect);
  }

  async write(batch: HistoryBatch): Promise<BatchSummary> {
    const empty = batch.events.length === 0 && batch.sessions.length === 0 &&
      !batch.encoded?.length;
    if (empty) return { events: 0, sessions: [] };
    if (this.writer) return await this.writer.write(batch);
    const decoded = decodeBatch(batch);
    await this.#db.transaction().execute((trx) =>
      writeBatch(trx, decoded, { dialect: this.dialect, keepCheckpoints: this.#keepCheckpoints })
    );
    return summarize(decoded);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.selectFrom("sessions").select(RECORD_COLUMNS)
      .where("id", "=", id).executeTakeFirst();
    return row && recordFromRow(row);
  }

  async listSessions(query: ListQuery): Promise<ListPage> {
    const limit = limitOf(query.limit, 50, 500);
    let qb = this.#db.selectFrom("sessions").select(SUMMARY_COLUMNS);
    for (const condition of await listConditions(this.#db, this.dialect, query)) {
      qb = qb.where(condition);
    }
    const rows = await qb.orderBy("updated_at", "desc").orderBy("id", "desc").limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map(summaryFromRow);
    const last = items[items.length - 1];
    const page: ListPage = rows.length > limit && last
      ? { items, nextCursor: encodeCursor([last.updatedAt, last.id]) }
      : { items };
    if (query.count) page.total = await this.#countByStatus(query);
    return page;
  }

  /** Sessions matching `query` by status, leaving out its status filter and cursor. */
  async #countByStatus(query: ListQuery): Promise<Record<Status, number>> {
    let qb = this.#db.selectFrom("sessions")
      .select((eb) => ["status", eb.fn.countAll().as("n")]).groupBy("status");
    const others = { ...query, status: undefined, cursor: undefined };
    for (const condition of await listConditions(this.#db, this.dialect, others)) {
      qb = qb.where(condition);
    }
    const total = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    for (const r of await qb.execute()) total[r.status as Status] = Number(r.n);
    return total;
  }

  async approvals(query: ApprovalQuery): Promise<ApprovalPage> {
    const limit = limitOf(query.limit, 50, 500);
    let qb = this.#db.selectFrom("approvals").select(["session_id", "id", "deadline", "approval"]);
    if (query.session !== undefined) qb = qb.where("session_id", "=", query.session);
    if (query.status !== undefined) {
      // With a session, its few rows come by primary key. SQLite's planner would rather read
      // the inbox index of every session in order; a leading `+` keeps it from that index.
      const byKey = query.session !== undefined && this.dialect === "sqlite";
      qb = qb.where(byKey ? sql<string>`+status` : "status", "=", query.status);
    }
    if (query.cursor !== undefined) {
      const [deadline, session, id] = decodeCursor(query.cursor, 3);
      qb = qb.where((eb) =>
        eb(eb.refTuple("deadline", "session_id", "id"), ">", eb.tuple(deadline, session, id))
      );
    }
    const rows = await qb.orderBy("deadline").orderBy("session_id").orderBy("id")
      .limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(approvalFromRow);
    const last = rows[limit - 1];
    return rows.length > limit
      ? { items, nextCursor: encodeCursor([last.deadline, last.session_id, last.id]) }
      : { items };
  }

  async events(id: string, opts: { after?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    const rows = await this.#db.selectFrom("events").selectAll()
      .where("session_id", "=", id).where("seq", ">", opts.after ?? 0)
      .orderBy("seq").limit(limitOf(opts.limit, 1000, 100_000)).execute();
    return rows.map(eventFromRow);
  }

  async lastSeq(id: string): Promise<number> {
    const row = await this.#db.selectFrom("events").select((eb) => eb.fn.max("seq").as("seq"))
      .where("session_id", "=", id).executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async messages(id: string, opts: { before?: number; limit?: number } = {}): Promise<Message[]> {
    let qb = this.#db.selectFrom("messages").selectAll().where("session_id", "=", id);
    if (opts.before !== undefined) qb = qb.where("seq", "<", opts.before);
    const rows = await qb.orderBy("seq", "desc").limit(limitOf(opts.limit, 50, 100_000)).execute();
    return rows.reverse().map(messageFromRow);
  }

  async countMessages(id: string): Promise<number> {
    const row = await this.#db.selectFrom("messages").select((eb) => eb.fn.countAll().as("n"))
      .where("session_id", "=", id).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async results(
    id: string,
    opts: { agent?: string; key?: string; latest?: boolean; after?: number; limit?: number } = {},
  ): Promise<ResultRow[]> {
    let base = this.#db.selectFrom("results").selectAll().where("session_id", "=", id);
    if (opts.agent !== undefined) base = base.where("agent", "=", opts.agent);
    if (opts.key !== undefined) base = base.where("key", "=", opts.key);
    const ranked = base.select((eb) =>
      eb.fn.agg<number>("row_number").over((ob) =>
        ob.partitionBy(["agent", "key"]).orderBy("seq", "desc")
      )
        .as("rank")
    );
    let qb = opts.latest
      ? this.#db.selectFrom(ranked.as("r")).selectAll().where("rank", "=", 1)
      : this.#db.selectFrom(base.as("r")).selectAll();
    if (opts.after !== undefined) qb = qb.where("seq", ">", opts.after);
    const rows = await qb.orderBy("seq").limit(limitOf(opts.limit, 1000, 100_000)).execute();
    return rows.map(resultFromRow);
  }

  async checkpoints(id: string): Promise<Checkpoint[]> {
    const rows = await this.#db.selectFrom("checkpoints").selectAll()
      .where("session_id", "=", id).orderBy("seq", "desc").execute();
    return rows.map(checkpointFromRow);
  }

  async checkpoint(id: string, checkpointId: string): Promise<Checkpoint | undefined> {
    const row = await this.#db.selectFrom("checkpoints").selectAll()
      .where("session_id", "=", id).where("id", "=", checkpointId)
      .orderBy("seq", "desc").limit(1).executeTakeFirst();
    return row && checkpointFromRow(row);
  }

  async expiredCandidates(now: string, limit: number): Promise<string[]> {
    const rows = await this.#db.selectFrom("sessions").select("id")
      .where("status", "in", ["active", "paused"]).where("expires_at", "<", now)
      .orderBy("expires_at").orderBy("id").limit(limitOf(limit, limit, 100_000)).execute();
    return rows.map((r) => r.id);
  }

  async cleanupCandidates(rules: RetentionRules): Promise<string[]> {
    const now = Date.parse(rules.now);
    const days = rules.olderThanDays ?? 30;
    const keep = rules.keepCompleted ?? 10;
    if (Number.isNaN(now) || !(days >= 0) || !Number.isInteger(keep) || keep < 0) {
      throw new ValidationError("Invalid retention rules", rules);
    }
    const cutoff = new Date(now - days * DAY_MS).toISOString();
    const rows = await this.#db.selectFrom("sessions").select("id")
      .where((eb) => {
        const old = eb.and([
          eb("status", "in", ["completed", "failed", "expired"]),
          eb("updated_at", "<", cutoff),
        ]);
        return rules.failed ? eb.or([old, eb("status", "=", "failed")]) : old;
      })
      .where(
        "id",
        "not in",
        (eb) =>
          eb.selectFrom("sessions").select("id").where("status", "=", "completed")
            .orderBy("updated_at", "desc").orderBy("id", "desc").limit(keep),
      )
      .orderBy("updated_at").orderBy("id").execute();
    return rows.map((r) => r.id);
  }

  deleteSession(id: string): Promise<string[]> {
    return this.#db.transaction().execute(async (trx) => {
      const blobs = await trx.selectFrom("results").select("blob").distinct()
        .where("session_id", "=", id).where("blob", "is not", null).orderBy("blob").execute();
      for (
        const table of [
          "events",
          "messages",
          "results",
          "checkpoints",
          "approvals",
          "session_tags",
          "session_agents",
        ] as const
      ) {
        await trx.deleteFrom(table).where("session_id", "=", id).execute();
      }
      await trx.deleteFrom("sessions").where("id", "=", id).execute();
      return blobs.flatMap((r) => (r.blob === null ? [] : [r.blob]));
    });
  }

  async countSessions(): Promise<Record<string, number>> {
    const rows = await this.#db.selectFrom("sessions")
      .select((eb) => ["status", eb.fn.countAll().as("n")]).groupBy("status").execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async countPendingApprovals(): Promise<number> {
    const row = await this.#db.selectFrom("approvals").select((eb) => eb.fn.countAll().as("n"))
      .where("status", "=", "pending").executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    try {
      await this.writer?.close();
    } finally {
      await this.#db.destroy();
    }
  }
}
