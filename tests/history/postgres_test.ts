/**
 * The history and blob conformance suites on PostgreSQL, when
 * `DATABASE_URL` is set. Every store gets its own schema (through the
 * connection's `search_path`), dropped when the store closes, so runs never
 * collide. Without `DATABASE_URL` this fails under CI and is skipped locally.
 *
 * @module
 */
import { openHistory } from "../../src/history/open_history.ts";
import type { KyselyHistoryStore } from "../../src/history/kysely_history.ts";
import { blobConformance } from "../blobs/blob_conformance.ts";
import { historyConformance } from "./history_conformance.ts";
import { freshSchema } from "../_pg_schema.ts";
import { createRuntime } from "../../mod.ts";
import assert from "node:assert/strict";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { HistoryDatabase } from "../../src/history/history_database.ts";
import { internals } from "../../actors/runtime.ts";

const url = Deno.env.get("DATABASE_URL");

/** A migrated store in a fresh schema, which its close() drops. */
async function openInFreshSchema(worker = false): Promise<KyselyHistoryStore> {
  const schema = await freshSchema(url!);
  const store = await openHistory({ url: schema.url, worker });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await schema.drop();
  };
  return store;
}

if (url) {
  // pg's Pool keeps sockets and timers that outlive one test by design.
  historyConformance("postgres", () => openInFreshSchema(), {
    sanitize: false,
    async openEmpty() {
      const schema = await freshSchema(url!);
      const pool = new pg.Pool({ connectionString: schema.url });
      const db = new Kysely<HistoryDatabase>({ dialect: new PostgresDialect({ pool }) });
      return { db, dialect: "postgres", drop: schema.drop };
    },
  });
  historyConformance("postgres, writes from a worker", () => openInFreshSchema(true), {
    sanitize: false,
  });
  blobConformance("postgres blobs", async () => {
    const history = await openInFreshSchema();
    const blobs = history.blobStore();
    return {
      put: (key, bytes) => blobs.put(key, bytes),
      get: (key) => blobs.get(key),
      delete: (key) => blobs.delete(key),
      deletePrefix: (prefix) => blobs.deletePrefix(prefix),
      list: (prefix) => blobs.list(prefix),
      close: () => history.close(),
    };
  }, { sanitize: false });
} else if (Deno.env.get("CI")) {
  Deno.test("postgres history: DATABASE_URL must be set in CI (run .ci/postgres.sh)", () => {
    throw new Error("DATABASE_URL is not set, but CI is: PostgreSQL tests cannot be skipped in CI");
  });
} else {
  Deno.test({
    name: "postgres history: skipped, DATABASE_URL is not set",
    ignore: true,
    fn() {},
  });
}

// Deploy mode needs PostgreSQL; it runs here so that no two files migrate at once.
Deno.test({
  name: "postgres: deploy mode runs on Deno.openKv() and PostgreSQL, touching no data directory",
  ignore: !url,
  sanitizeResources: false, // pg's pool
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const schema = await freshSchema(url!);
    try {
      // the data directory would appear if deploy mode touched the file system
      const rt = await createRuntime({
        deploy: true,
        tickMs: 0,
        databaseUrl: schema.url,
        dataDir: `${dir}/data`,
      });
      try {
        assert.match(internals(rt).stores.where.kv, /Deno Deploy/);
        const s = await rt.create("default", { state: { n: 1 } });
        await rt.patch(s.id, [{ op: "replace", path: "/n", value: 2 }]);
        assert.deepEqual((await rt.get(s.id)).state, { n: 2 });
        await rt.delete(s.id);
      } finally {
        await rt.close();
      }
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await schema.drop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
