/**
 * Upgrades of the history schema: a database that an older release migrated
 * is brought up to date by `migrate()` and keeps its rows.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Kysely, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { historyMigrations } from "../../src/history/migrations.ts";
import { KyselyHistoryStore } from "../../src/history/kysely_history.ts";
import type {
  HistoryDatabase,
  SessionsTable,
  SqlDialectName,
} from "../../src/history/history_database.ts";
import {
  approval,
  approvalEvent,
  at,
  type ConformanceOptions,
  type EmptyDatabase,
  event,
  messageEvent,
  session,
} from "./_fixtures.ts";

/** The tables as the first migration made them. */
type FirstDatabase = Omit<HistoryDatabase, "sessions" | "approvals"> & {
  sessions: Omit<SessionsTable, "pending_approvals" | "open_conflicts" | "coordination">;
};

/** Applies the migrations named `names` and no later one, as an older release did. */
async function migrateOnly(
  db: Kysely<HistoryDatabase>,
  dialect: SqlDialectName,
  names: string[],
): Promise<void> {
  const all = await historyMigrations(dialect).getMigrations();
  const migrationTableSchema = dialect === "postgres"
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0].schema
    : undefined;
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: () => Promise.resolve(Object.fromEntries(names.map((n) => [n, all[n]]))),
    },
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** Registers the upgrade tests under `suite`; each gets an unmigrated database from `openEmpty`. */
export function registerMigrationConformance(
  suite: string,
  openEmpty: () => Promise<EmptyDatabase>,
  options: ConformanceOptions,
): void {
  const sanitize = options.sanitize ?? true;
  Deno.test({
    name: `${suite}: a database made by the first migration upgrades and keeps its rows`,
    sanitizeResources: sanitize,
    sanitizeOps: sanitize,
    async fn() {
      const { db, dialect, drop } = await openEmpty();
      const store = new KyselyHistoryStore({ db, dialect });
      try {
        await migrateOnly(db, dialect, ["0001_initial"]);
        const old = db as unknown as Kysely<FirstDatabase>;
        await old.insertInto("sessions").values({
          id: "old-Run_1",
          kind: "default",
          name: "Legacy notes",
          tags: JSON.stringify(["kept"]),
          meta: "{}",
          status: "completed",
          phase: "done",
          version: 3,
          progress: 1,
          agents: "{}",
          ttl: JSON.stringify(session("x").ttl),
          created_at: at(0),
          updated_at: at(3),
          completed_at: at(3),
          expires_at: at(24 * 60),
          state: JSON.stringify({ n: 1 }),
          report: null,
          error: null,
          origin: null,
          archive: null,
          search_text: "legacy notes kept",
        }).execute();
        const events = [event("old-Run_1", 1, "created"), messageEvent("old-Run_1", 2, "hello")];
        await store.write({ events, sessions: [] });

        await store.migrate();
        await store.migrate();
        assert.deepEqual(
          await store.getSession("old-Run_1"),
          session("old-Run_1", {
            name: "Legacy notes",
            tags: ["kept"],
            status: "completed",
            phase: "done",
            version: 3,
            progress: 1,
            updatedAt: at(3),
            completedAt: at(3),
            state: { n: 1 },
          }),
        );
        assert.deepEqual(await store.events("old-Run_1"), events);
        assert.equal(await store.countMessages("old-Run_1"), 1);
        const found = async (q: string) => (await store.listSessions({ q })).items.map((s) => s.id);
        assert.deepEqual(await found("legacy"), ["old-Run_1"]);
        assert.deepEqual(await found("hello"), ["old-Run_1"]);
        assert.deepEqual(await found("old-run"), ["old-Run_1"], "the id is searchable after it");
        assert.deepEqual(await found("run_1"), ["old-Run_1"]);
        assert.deepEqual((await store.listSessions({ waiting: "approval" })).items, []);

        await store.write({
          events: [approvalEvent("new", 2, approval("a", 5))],
          sessions: [session("new", { version: 2, pendingApprovals: 1 })],
        });
        assert.deepEqual(
          (await store.listSessions({ waiting: "approval" })).items.map((s) => s.id),
          ["new"],
        );
        assert.deepEqual((await store.approvals({ status: "pending" })).items, [
          { ...approval("a", 5), session: "new" },
        ]);
      } finally {
        await store.close();
        await drop();
      }
    },
  });
}
