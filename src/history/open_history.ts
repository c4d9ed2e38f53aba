/**
 * The one place that picks the history engine: PostgreSQL for a
 * `postgres://` URL, SQLite otherwise.
 *
 * @module
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { HistoryDatabase } from "./history_database.ts";
import { KyselyHistoryStore } from "./kysely_history.ts";
import { openSqliteDialect } from "./sqlite_dialect.ts";
import { WorkerWriter } from "./worker_writer.ts";

/** Options of {@linkcode openHistory}. */
export interface OpenHistoryOptions {
  /** A `postgres://` or `postgresql://` URL selects PostgreSQL; anything else is ignored. */
  url?: string;
  /** The SQLite file when `url` is not PostgreSQL. Default `:memory:`. */
  path?: string;
  /** Checkpoints kept per session, besides the newest final one. Default 10. */
  keepCheckpoints?: number;
  /** Bring the schema up to date on open. Default true. */
  migrate?: boolean;
  /**
   * Write batches from a Worker with its own connection (see `worker_writer.ts`),
   * keeping the main thread free. Ignored for SQLite `:memory:`, which a
   * second connection cannot share. Default false.
   */
  worker?: boolean;
}

/** Whether `url` names a PostgreSQL database. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the history store and brings its schema up to date.
 *
 * @example
 * ```ts
 * const history = await openHistory({ url: Deno.env.get("DATABASE_URL"), path: ":memory:" });
 * await history.ping();
 * await history.close();
 * ```
 */
export async function openHistory(options: OpenHistoryOptions = {}): Promise<KyselyHistoryStore> {
  const { url, keepCheckpoints } = options;
  const postgres = isPostgresUrl(url);
  const shared = postgres || (options.path !== undefined && options.path !== ":memory:");
  const writer = options.worker && shared ? new WorkerWriter(options) : undefined;
  const store = postgres
    ? new KyselyHistoryStore({
      db: new Kysely<HistoryDatabase>({ dialect: new PostgresDialect({ pool: openPool(url) }) }),
      dialect: "postgres",
      keepCheckpoints,
      writer,
    })
    : new KyselyHistoryStore({
      db: new Kysely<HistoryDatabase>({ dialect: openSqliteDialect({ path: options.path }) }),
      dialect: "sqlite",
      keepCheckpoints,
      writer,
    });
  try {
    if (options.migrate ?? true) await store.migrate();
    await writer?.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * A `pg` pool that outlives the server's restarts. When PostgreSQL goes away
 * (a restart, a failover), each of its clients emits `error`, and an emitter
 * with no listener throws it: that ended the process, or the history
 * worker. The pool listens on idle clients and drops them; a client that is
 * checked out (inside a transaction) gets a listener of its own, and its
 * query in flight, or the next, fails instead, so the drainer retries.
 */
function openPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => {}); // an idle client's: the pool has dropped it
  pool.on("connect", (client: { on(event: "error", listener: () => void): unknown }) => {
    client.on("error", () => {});
  });
  return pool;
}
