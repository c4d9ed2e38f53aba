/**
 * The history schema, as Kysely migrations kept in code. One schema for both
 * engines, with small branches: full text is FTS5 (external content, kept in
 * step by triggers) on SQLite and generated `tsvector` columns with GIN
 * indexes on PostgreSQL; bytes are `blob` or `bytea`; text compared by range
 * or sorted uses the `C` collation on PostgreSQL, so order matches SQLite's.
 *
 * @module
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import type { SqlDialectName } from "./history_database.ts";
import { UnavailableError } from "../errors.ts";

/** Characters of a text column fed to `to_tsvector`, which caps a tsvector at 1 MiB. */
export const PG_FTS_MAX_CHARS = 100_000;

// Migrations must not depend on the current table types, which change with later migrations.
// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

function initial(dialect: SqlDialectName): Migration {
  const pg = dialect === "postgres";
  const key: "text" | RawBuilder<unknown> = pg ? sql`text collate "C"` : "text";
  const bytes = pg ? "bytea" : "blob";
  return {
    async up(db: AnyDb) {
      await db.schema.createTable("sessions")
        .addColumn("id", key, (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("tags", "text", (c) => c.notNull())
        .addColumn("meta", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("phase", "text", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("progress", "double precision", (c) => c.notNull())
        .addColumn("agents", "text", (c) => c.notNull())
        .addColumn("ttl", "text", (c) => c.notNull())
        .addColumn("created_at", key, (c) => c.notNull())
        .addColumn("updated_at", key, (c) => c.notNull())
        .addColumn("completed_at", key)
        .addColumn("expires_at", key, (c) => c.notNull())
        .addColumn("state", "text")
        .addColumn("report", "text")
        .addColumn("error", "text")
        .addColumn("origin", "text")
        .addColumn("archive", "text")
        .addColumn("search_text", "text", (c) => c.notNull())
        .execute();
      const index = (name: string, columns: string[]) =>
        db.schema.createIndex(name).on("sessions").columns(columns).execute();
      await index("sessions_updated", ["updated_at desc", "id desc"]);
      await index("sessions_status_updated", ["status", "updated_at desc", "id desc"]);
      await index("sessions_kind_updated", ["kind", "updated_at desc", "id desc"]);
      await index("sessions_created", ["created_at"]);
      await index("sessions_expires", ["expires_at"]);

      for (const [table, column] of [["session_tags", "tag"], ["session_agents", "agent"]]) {
        await db.schema.createTable(table)
          .addColumn("session_id", key, (c) => c.notNull())
          .addColumn(column, key, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ["session_id", column])
          .execute();
        await db.schema.createIndex(`${table}_by_${column}`).on(table)
          .columns([column, "session_id"]).execute();
      }

      await db.schema.createTable("events")
        .addColumn("session_id", key, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("agent", "text")
        .addColumn("data", "text")
        .addColumn("at", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("events_pk", ["session_id", "seq"])
        .execute();

      await db.schema.createTable("messages")
        .addColumn("session_id", key, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("id", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("content", "text", (c) => c.notNull())
        .addColumn("meta", "text")
        .addColumn("agent", "text")
        .addColumn("at", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("messages_pk", ["session_id", "seq"])
        .execute();

      await db.schema.createTable("results")
        .addColumn("session_id", key, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("agent", "text")
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("partial", "integer", (c) => c.notNull())
        .addColumn("data", "text")
        .addColumn("blob", "text")
        .addColumn("bytes", "integer", (c) => c.notNull())
        .addColumn("at", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("results_pk", ["session_id", "seq"])
        .execute();
      await db.schema.createIndex("results_by_key").on("results")
        .columns(["session_id", "key", "seq"]).execute();

      await db.schema.createTable("checkpoints")
        .addColumn("session_id", key, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("id", "text", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("label", "text")
        .addColumn("final", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("at", key, (c) => c.notNull())
        .addPrimaryKeyConstraint("checkpoints_pk", ["session_id", "seq"])
        .execute();
      await db.schema.createIndex("checkpoints_by_id").on("checkpoints")
        .columns(["session_id", "id"]).execute();

      await db.schema.createTable("blobs")
        .addColumn("key", key, (c) => c.primaryKey())
        .addColumn("bytes", bytes, (c) => c.notNull())
        .execute();

      if (pg) await postgresFullText(db);
      else await sqliteFullText(db);
    },
  };
}

async function postgresFullText(db: AnyDb): Promise<void> {
  const capped = (column: string) => sql`left(${sql.ref(column)}, ${sql.lit(PG_FTS_MAX_CHARS)})`;
  // search_text is already plain words; message content has its punctuation blanked first, so
  // `example.com` is indexed as `example` and `com`, the words a query is cut into.
  const sources = [
    ["sessions", "search", capped("search_text")],
    ["messages", "tsv", sql`regexp_replace(${capped("content")}, '[[:punct:]]+', ' ', 'g')`],
  ] as const;
  for (const [table, column, source] of sources) {
    await db.schema.alterTable(table)
      .addColumn(
        column,
        sql`tsvector`,
        (c) => c.generatedAlwaysAs(sql`to_tsvector('simple', ${source})`).stored(),
      )
      .execute();
    await db.schema.createIndex(`${table}_fts`).on(table).using("gin").column(column).execute();
  }
}

async function sqliteFullText(db: AnyDb): Promise<void> {
  for (const [table, column] of [["sessions", "search_text"], ["messages", "content"]]) {
    const fts = `${table}_fts`;
    await sql`CREATE VIRTUAL TABLE ${sql.id(fts)} USING fts5(${sql.id(column)}, content=${
      sql.lit(table)
    }, content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    const add = sql.raw(`INSERT INTO ${fts}(rowid, ${column}) VALUES (new.rowid, new.${column});`);
    const remove = sql.raw(
      `INSERT INTO ${fts}(${fts}, rowid, ${column}) VALUES ('delete', old.rowid, old.${column});`,
    );
    await sql`CREATE TRIGGER ${sql.id(`${fts}_ai`)} AFTER INSERT ON ${
      sql.id(table)
    } BEGIN ${add} END`
      .execute(db);
    await sql`CREATE TRIGGER ${sql.id(`${fts}_ad`)} AFTER DELETE ON ${
      sql.id(table)
    } BEGIN ${remove} END`
      .execute(db);
    await sql`CREATE TRIGGER ${sql.id(`${fts}_au`)} AFTER UPDATE OF ${sql.id(column)} ON ${
      sql.id(table)
    } WHEN old.${sql.ref(column)} IS NOT new.${sql.ref(column)} BEGIN ${remove} ${add} END`.execute(
      db,
    );
  }
}

/**
 * Coordination (SPEC §9): the counts a listing filters on, a terminal
 * session's final records, and the approvals inbox. Existing rows get zero
 * counts, and their search text gains the words of their id, as
 * `sessionSearchText` writes it now.
 */
function coordination(dialect: SqlDialectName): Migration {
  const key: "text" | RawBuilder<unknown> = dialect === "postgres" ? sql`text collate "C"` : "text";
  return {
    async up(db: AnyDb) {
      for (const column of ["pending_approvals", "open_conflicts"]) {
        await db.schema.alterTable("sessions")
          .addColumn(column, "integer", (c) => c.notNull().defaultTo(0)).execute();
      }
      await db.schema.alterTable("sessions").addColumn("coordination", "text").execute();
      // A checkpoint's agents, phase and coordination records, as JSON (absent before 0002).
      await db.schema.alterTable("checkpoints").addColumn("extra", "text").execute();
      // Partial indexes: only the few sessions that wait or disagree are in them, and a
      // filtered listing reads them in listing order. The filters repeat these literal
      // conditions, so that SQLite sees the index applies.
      for (
        const [name, column] of [
          ["sessions_waiting_updated", "pending_approvals"],
          ["sessions_conflicts_updated", "open_conflicts"],
        ]
      ) {
        await db.schema.createIndex(name).on("sessions").columns(["updated_at desc", "id desc"])
          .where(sql.ref(column), ">", sql.lit(0)).execute();
      }
      // Ids are [A-Za-z0-9_-]: lowered, with `_` and `-` as spaces, they are their own words.
      await db.updateTable("sessions").set({
        search_text:
          sql`trim(lower(replace(replace(id, '-', ' '), '_', ' ')) || ' ' || search_text)`,
      }).execute();

      await db.schema.createTable("approvals")
        .addColumn("session_id", key, (c) => c.notNull())
        .addColumn("id", key, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("deadline", key, (c) => c.notNull())
        .addColumn("requested_at", key, (c) => c.notNull())
        .addColumn("approval", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("approvals_pk", ["session_id", "id"])
        .execute();
      await db.schema.createIndex("approvals_inbox").on("approvals")
        .columns(["status", "deadline", "session_id", "id"]).execute();
    },
  };
}

/** The migrations of the history schema for one engine, applied in the order of their names. */
export function historyMigrations(dialect: SqlDialectName): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve({
        "0001_initial": initial(dialect),
        "0002_coordination": coordination(dialect),
      }),
  };
}

/**
 * Brings the schema up to date. Idempotent.
 *
 * @example
 * ```ts
 * import { Kysely } from "kysely";
 * import { openSqliteDialect } from "./sqlite_dialect.ts";
 * const db = new Kysely<Record<string, never>>({ dialect: openSqliteDialect() });
 * await migrateHistory(db, "sqlite");
 * await db.destroy();
 * ```
 */
export async function migrateHistory(db: AnyDb, dialect: SqlDialectName): Promise<void> {
  // On PostgreSQL, name the schema: otherwise Kysely takes a migration table of the same name
  // in any other schema of the database (another app, another Denizen) for ours.
  const migrationTableSchema = dialect === "postgres"
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
      ?.schema
    : undefined;
  const migrator = new Migrator({
    db,
    provider: historyMigrations(dialect),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    throw new UnavailableError(
      `History migration failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
