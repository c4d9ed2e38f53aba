/**
 * The one factory that picks the stores of SPEC §8: memory for tests, files
 * under `./data/` by default, PostgreSQL when `DATABASE_URL` is set.
 *
 * @module
 */
import type { BlobStore } from "../src/blobs/blob_store.ts";
import { FileBlobStore } from "../src/blobs/file_blob_store.ts";
import { MemoryBlobStore } from "../src/blobs/memory_blob_store.ts";
import { ConflictError, DenizenError, UnavailableError, ValidationError } from "../src/errors.ts";
import type { HistoryStore } from "../src/history/history_store.ts";
import { isPostgresUrl, openHistory } from "../src/history/open_history.ts";

/** Where a runtime keeps its data. */
export interface StoreOptions {
  /** Everything in memory: `Deno.openKv(":memory:")`, SQLite `:memory:`, blobs in a Map. */
  memory?: boolean;
  /** Data directory for the KV file, the SQLite file, blobs and archives. Default `./data`. */
  dataDir?: string;
  /** A `postgres://` URL puts history and blobs in PostgreSQL. */
  databaseUrl?: string;
  /** An open KV to use instead (shared between runtimes, or wrapped by tests). Not closed by the runtime. */
  kv?: Deno.Kv;
  /**
   * Deno Deploy: KV from `Deno.openKv()` (the project's global database), and
   * history and blobs in the PostgreSQL of `databaseUrl`, which is required.
   * Nothing touches the file system.
   */
  deploy?: boolean;
  /** Checkpoints kept per session. Default 10. */
  keepCheckpoints?: number;
}

/** The opened stores and a description of where they live. */
export interface Stores {
  /** The hot store: sessions, logs and the outbox. */
  kv: Deno.Kv;
  /**
   * True when no other process can write `kv`: it is in memory, or it is the
   * KV file of a data directory this process holds the lock of. Then no
   * session head needs watching for other writers' commits.
   */
  soleWriter: boolean;
  /** The SQL history. */
  history: HistoryStore;
  /** How the history's writes (the drainer's) fare lately, for `/healthz`. */
  readonly historyWrites: {
    /** Writes that failed in a row; 0 once one succeeds. */
    readonly failures: number;
    /** Why the last write failed, while `failures` is above 0. */
    readonly error?: string;
    /** When the first of these failures happened, epoch ms. */
    readonly failingSince?: number;
  };
  /** Large results and outbox payloads. */
  blobs: BlobStore;
  /** Where archives are written; undefined in memory mode (a temp dir is made on demand). */
  archiveDir?: string;
  /** Human-readable locations, printed by `deno task serve`. */
  where: { kv: string; history: string; blobs: string };
  /** Closes blobs, history and (when owned) KV, and releases the data directory. */
  close(): Promise<void>;
}

/** The lock file that keeps a data directory to one process. */
const LOCK_FILE = "denizen.lock";

/**
 * Takes the lock of data directory `dir` (an advisory `flock`, released when
 * the process ends however it ends), or throws if another process holds it:
 * two processes on one KV file would fail each other's commits with
 * "database is locked", and neither would see the other's live events.
 */
async function lockDataDir(dir: string): Promise<Deno.FsFile> {
  const file = await Deno.open(`${dir}/${LOCK_FILE}`, { create: true, write: true });
  if (await file.tryLock(true)) return file;
  file.close();
  throw new ConflictError(
    `Data directory '${dir}' is in use by another Denizen process. Stop it, or reach ` +
      "that process over HTTP (the CLI's --url); for several instances on one KV, use Deno Deploy.",
  );
}

/** Opens the stores described by `opts`. */
export async function openStores(opts: StoreOptions): Promise<Stores> {
  if (opts.deploy && !isPostgresUrl(opts.databaseUrl)) {
    throw new ValidationError(
      "On Deno Deploy, history needs PostgreSQL: set DATABASE_URL to a postgres:// URL",
    );
  }
  const dir = opts.dataDir ?? "./data";
  const local = !opts.memory && !opts.kv && !opts.deploy;
  let lock: Deno.FsFile | undefined;
  if (local) {
    try {
      await Deno.mkdir(dir, { recursive: true });
      lock = await lockDataDir(dir);
    } catch (error) {
      throw cannotOpen(error, `Data directory '${dir}'`);
    }
  }
  const kvPath = opts.memory ? ":memory:" : opts.deploy ? undefined : `${dir}/kv.sqlite3`;
  const pg = isPostgresUrl(opts.databaseUrl);
  const historyPath = opts.memory ? ":memory:" : `${dir}/history.sqlite3`;
  let kv: Deno.Kv;
  try {
    kv = opts.kv ?? await Deno.openKv(kvPath);
  } catch (error) {
    lock?.close();
    throw cannotOpen(error, kvPath ? `KV file '${kvPath}'` : "KV", {
      damaged: "restore it from a backup, or move it aside to start without the live sessions " +
        `it holds (the history in '${pg ? redact(opts.databaseUrl!) : historyPath}' is kept)`,
    });
  }
  let history;
  try {
    history = await openHistory({
      url: pg ? opts.databaseUrl : undefined,
      path: historyPath,
      keepCheckpoints: opts.keepCheckpoints,
      worker: !opts.deploy,
    });
  } catch (error) {
    if (!opts.kv) kv.close();
    lock?.close();
    throw pg
      ? cannotOpen(error, `History database '${redact(opts.databaseUrl!)}'`, {
        other: "check that PostgreSQL is running and that DATABASE_URL is right",
      })
      : cannotOpen(error, `History file '${historyPath}'`, {
        damaged: "move it aside to start with an empty history (the live sessions in KV are " +
          "kept), or restore it from a backup",
      });
  }
  const blobs: BlobStore = pg
    ? history.blobStore()
    : opts.memory
    ? new MemoryBlobStore()
    : new FileBlobStore(`${dir}/blobs`);
  const historyWrites: Mutable<HistoryWrites> = { failures: 0 };
  return {
    kv,
    soleWriter: !opts.kv && (opts.memory === true || lock !== undefined),
    history: unavailableOnFailure(history, historyWrites),
    historyWrites,
    blobs,
    archiveDir: opts.memory || opts.deploy ? undefined : `${dir}/archives`,
    where: {
      kv: opts.kv ? "(provided)" : kvPath ?? "Deno.openKv() (Deno Deploy)",
      history: pg ? redact(opts.databaseUrl!) : historyPath,
      blobs: pg ? "PostgreSQL table blobs" : opts.memory ? "memory" : `${dir}/blobs`,
    },
    async close() {
      try {
        await blobs.close();
        await history.close();
      } finally {
        if (!opts.kv) kv.close();
        lock?.close();
      }
    },
  };
}

/** SQLite's words for a file that is not a database it can read, and what they mean. */
const DAMAGE: [RegExp, string][] = [
  [/file is not a database|file is encrypted/i, "is not a SQLite database"],
  [/malformed|corrupt/i, "is damaged (truncated or overwritten)"],
];

/**
 * A store that cannot be opened at start, as a 503 whose message is one
 * line naming `what`, why, and what to do: `deno task serve` prints it and
 * exits, rather than a stack trace. `damaged` is the advice for a file that
 * is not a database or is damaged; `other`, for any other failure.
 */
function cannotOpen(
  error: unknown,
  what: string,
  advice: { damaged?: string; other?: string } = {},
): unknown {
  if (error instanceof DenizenError) return error;
  const reason = String((error as Error)?.message ?? error).split("\n")[0];
  for (const [words, meaning] of DAMAGE) {
    if (!words.test(reason)) continue;
    const then = advice.damaged ? `; ${advice.damaged}` : "";
    return new UnavailableError(`${what} ${meaning} (${reason})${then}`);
  }
  if (
    error instanceof Deno.errors.PermissionDenied || /permission denied|read-?only/i.test(reason)
  ) {
    return new UnavailableError(
      `${what} cannot be opened (${reason}); give this user read and write access to it`,
    );
  }
  const then = advice.other ? `; ${advice.other}` : "";
  return new UnavailableError(`${what} cannot be opened (${reason})${then}`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type HistoryWrites = Stores["historyWrites"];

/**
 * Wraps the history store so that a failure of the database itself (a lost
 * connection, a locked file) reaches callers as a 503 they may retry, while
 * the store's own 4xx errors pass through unchanged. The outcome of each
 * `write` is noted in `writes`.
 */
function unavailableOnFailure(
  history: HistoryStore,
  writes: Mutable<HistoryWrites>,
): HistoryStore {
  return new Proxy(history, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      const isWrite = prop === "write";
      return (...args: unknown[]) => {
        const out = value.apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.then((result: unknown) => {
          if (isWrite && writes.failures > 0) {
            writes.failures = 0;
            writes.error = writes.failingSince = undefined;
          }
          return result;
        }, (error: unknown) => {
          if (error instanceof DenizenError) throw error;
          const message = (error as Error)?.message ?? String(error);
          if (isWrite) {
            writes.failures++;
            writes.error = message;
            writes.failingSince ??= Date.now();
          }
          throw new UnavailableError(`History store unavailable: ${message}`);
        });
      };
    },
  });
}
