/**
 * The one factory that picks the stores of SPEC §8: memory for tests, files
 * under `./data/` by default, PostgreSQL when `DATABASE_URL` is set.
 *
 * @module
 */
import type { BlobStore } from "./blobs/blob_store.ts";
import { FileBlobStore } from "./blobs/file_blob_store.ts";
import { MemoryBlobStore } from "./blobs/memory_blob_store.ts";
import { DenizenError, UnavailableError, ValidationError } from "./errors.ts";
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
  /** True when the runtime opened `kv` and so closes it. */
  ownsKv: boolean;
  /** The SQL history. */
  history: HistoryStore;
  /** Large results and outbox payloads. */
  blobs: BlobStore;
  /** Where archives are written; undefined in memory mode (a temp dir is made on demand). */
  archiveDir?: string;
  /** Human-readable locations, printed by `deno task serve`. */
  where: { kv: string; history: string; blobs: string };
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
  const kvPath = opts.memory ? ":memory:" : opts.deploy ? undefined : `${dir}/kv.sqlite3`;
  const kv = opts.kv ?? await Deno.openKv(kvPath);
  const pg = isPostgresUrl(opts.databaseUrl);
  const historyPath = opts.memory ? ":memory:" : `${dir}/history.sqlite3`;
  let history;
  try {
    history = await openHistory({
      url: pg ? opts.databaseUrl : undefined,
      path: historyPath,
      keepCheckpoints: opts.keepCheckpoints,
    });
  } catch (error) {
    if (!opts.kv) kv.close();
    throw error;
  }
  const blobs: BlobStore = pg
    ? history.blobStore()
    : opts.memory
    ? new MemoryBlobStore()
    : new FileBlobStore(`${dir}/blobs`);
  return {
    kv,
    ownsKv: !opts.kv,
    history: unavailableOnFailure(history),
    blobs,
    archiveDir: opts.memory || opts.deploy ? undefined : `${dir}/archives`,
    where: {
      kv: opts.kv ? "(provided)" : kvPath ?? "Deno.openKv() (Deno Deploy)",
      history: pg ? redact(opts.databaseUrl!) : historyPath,
      blobs: pg ? "PostgreSQL table blobs" : opts.memory ? "memory" : `${dir}/blobs`,
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
