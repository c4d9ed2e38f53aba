import assert from "node:assert/strict";
import { Kysely, sql } from "kysely";
import { openSqliteDialect } from "../../src/history/sqlite_dialect.ts";
import { openHistory } from "../../src/history/open_history.ts";
import { historyConformance } from "./history_conformance.ts";
import type { HistoryDatabase } from "../../src/history/history_database.ts";

historyConformance("sqlite :memory:", () => openHistory({ path: ":memory:" }), {
  openEmpty: () =>
    Promise.resolve({
      db: new Kysely<HistoryDatabase>({ dialect: openSqliteDialect() }),
      dialect: "sqlite",
      drop: () => Promise.resolve(),
    }),
});

for (const worker of [false, true]) {
  historyConformance(`sqlite file${worker ? ", writes from a worker" : ""}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "denizen-history-" });
    const store = await openHistory({ path: `${dir}/history.sqlite3`, worker });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await Deno.remove(dir, { recursive: true });
    };
    return store;
  });
}

Deno.test("a history file syncs every transaction and checkpoints every 1,000 pages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-history-" });
  const db = new Kysely<Record<string, never>>({
    dialect: openSqliteDialect({ path: `${dir}/history.sqlite3` }),
  });
  try {
    const pragma = async (name: string) =>
      Object.values((await sql.raw(`PRAGMA ${name}`).execute(db)).rows[0] as object)[0];
    assert.equal(await pragma("journal_mode"), "wal");
    assert.equal(await pragma("synchronous"), 2, "FULL");
    assert.equal(await pragma("wal_autocheckpoint"), 1000);
  } finally {
    await db.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
