/**
 * Kysely's `SqliteDialect` over Deno's built-in `node:sqlite` (`DatabaseSync`),
 * through a thin adapter to the statement shape Kysely expects.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";

/** Options of {@linkcode openSqliteDialect}. */
export interface SqliteDialectOptions {
  /** A file path, or `:memory:`. Default `:memory:`. */
  path?: string;
  /** How long a writer waits for a lock, in milliseconds. Default 5000. */
  busyTimeoutMs?: number;
}

/** A value `node:sqlite` binds: booleans become 0 or 1, undefined becomes null. */
type Bindable = null | number | bigint | string | Uint8Array;

function bindable(value: unknown): Bindable {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as Bindable;
}

class NodeSqliteStatement implements SqliteStatement {
  readonly #stmt: StatementSync;
  readonly reader: boolean;

  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...parameters.map(bindable));
  }

  run(
    parameters: ReadonlyArray<unknown>,
  ): { changes: number | bigint; lastInsertRowid: number | bigint } {
    const { changes, lastInsertRowid } = this.#stmt.run(...parameters.map(bindable));
    return { changes, lastInsertRowid };
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#stmt.iterate(...parameters.map(bindable));
  }
}

/** Prepared statements kept per connection, by SQL text: the drainer runs the same few again and again. */
const STATEMENT_CACHE = 256;

class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, NodeSqliteStatement>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      this.#statements.delete(sql); // most recently used last
    } else {
      stmt = new NodeSqliteStatement(this.#db.prepare(sql));
      if (this.#statements.size >= STATEMENT_CACHE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/**
 * Opens a SQLite database with WAL, `busy_timeout`, `synchronous=FULL`,
 * foreign keys on and a 16 MiB page cache, and returns a Kysely dialect over it.
 *
 * @example
 * ```ts
 * import { Kysely } from "kysely";
 * const db = new Kysely<Record<string, never>>({ dialect: openSqliteDialect({ path: ":memory:" }) });
 * await db.destroy();
 * ```
 */
export function openSqliteDialect(options: SqliteDialectOptions = {}): SqliteDialect {
  const db = new DatabaseSync(options.path ?? ":memory:");
  db.exec(`PRAGMA journal_mode = WAL`);
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  // Each transaction is synced and checkpoints stay at SQLite's default of 1,000 pages, so the
  // history reaches the disk in small steps. A KV commit's fsync flushes the disk's cache and
  // waits for whatever was written before it: with `synchronous = NORMAL` and checkpoints of
  // 4,000 pages, the history's bursts (up to 16 MiB of WAL, then as much copied into the file)
  // came before some of them, and after heavy load single KV commits took up to 678 ms.
  db.exec(`PRAGMA synchronous = FULL`);
  db.exec(`PRAGMA foreign_keys = ON`);
  // 16 MiB of page cache (the default is 2 MiB): under load each transaction touches the newest
  // index page of many sessions, and these are then read from the cache, not from the file.
  db.exec(`PRAGMA cache_size = -16384`);
  return new SqliteDialect({ database: new NodeSqliteDatabase(db) });
}
