/**
 * The history and blob conformance suites on PostgreSQL, when
 * `DATABASE_URL` is set. Every store gets its own schema (through the
 * connection's `search_path`), dropped when the store closes, so runs never
 * collide. Without `DATABASE_URL` this fails under CI and is skipped locally.
 *
 * @module
 */
import pg from "pg";
import { openHistory } from "../../src/history/open_history.ts";
import type { KyselyHistoryStore } from "../../src/history/kysely_history.ts";
import { blobConformance } from "../blobs/blob_conformance.ts";
import { historyConformance } from "./history_conformance.ts";

const url = Deno.env.get("DATABASE_URL");

/** A migrated store in a fresh schema, which its close() drops. */
async function openInFreshSchema(): Promise<KyselyHistoryStore> {
  const schema = `denizen_t_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const scoped = new URL(url!);
  scoped.searchParams.set("options", `-c search_path=${schema}`);
  const store = await openHistory({ url: scoped.href });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    const dropper = new pg.Client({ connectionString: url });
    await dropper.connect();
    try {
      await dropper.query(`DROP SCHEMA ${schema} CASCADE`);
    } finally {
      await dropper.end();
    }
  };
  return store;
}

if (url) {
  // pg's Pool keeps sockets and timers that outlive one test by design.
  historyConformance("postgres", openInFreshSchema, { sanitize: false });
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
