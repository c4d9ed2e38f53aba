/**
 * The one factory that picks the stores of SPEC §8: memory for tests, files
 * under `./data/` by default, PostgreSQL when `DATABASE_URL` is set.
 *
 * @module
 */
import type { BlobStore } from "./blobs/blob_store.ts";
import { FileBlobStore } from "./blobs/file_blob_store.ts";
import { MemoryBlobStore } from "./blobs/memory_blob_store.ts";
import { ConflictError, DenizenError, UnavailableError, ValidationError } from "./errors.ts";
import type { HistoryStore } from "./history/history_store.ts";
import { isPostgresUrl, openHistory } from "./history/open_history.ts";

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
  if (local) await Deno.mkdir(dir, { recursive: true });
  const lock = local ? await lockDataDir(dir) : undefined;
  const kvPath = opts.memory ? ":memory:" : opts.deploy ? undefined : `${dir}/kv.sqlite3`;
  let kv: Deno.Kv;
  try {
    kv = opts.kv ?? await Deno.openKv(kvPath);
  } catch (error) {
    lock?.close();
    throw error;
  }
  const pg = isPostgresUrl(opts.databaseUrl);
  const historyPath = opts.memory ? ":memory:" : `${dir}/history.sqlite3`;
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
    throw error;
  }
  const blobs: BlobStore = pg
    ? history.blobStore()
    : opts.memory
    ? new MemoryBlobStore()
    : new FileBlobStore(`${dir}/blobs`);
  return {
    kv,
    soleWriter: !opts.kv && (opts.memory === true || lock !== undefined),
    history: unavailableOnFailure(history),
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

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * Wraps the history store so that a failure of the database itself (a lost
 * connection, a locked file) reaches callers as a 503 they may retry, while
 * the store's own 4xx errors pass through unchanged.
 */
function unavailableOnFailure(history: HistoryStore): HistoryStore {
  return new Proxy(history, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out = value.apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((error: unknown) => {
          if (error instanceof DenizenError) throw error;
          throw new UnavailableError(
            `History store unavailable: ${(error as Error)?.message ?? error}`,
          );
        });
      };
    },
  });
}
