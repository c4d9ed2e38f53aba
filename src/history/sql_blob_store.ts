/**
 * A {@linkcode BlobStore} in the SQL history database (table `blobs`), for
 * deployments without a local disk.
 *
 * @module
 */
import type { Kysely } from "kysely";
import type { BlobStore } from "../blobs/blob_store.ts";
import type { HistoryDatabase } from "./history_database.ts";
import { assertBlobKey, assertBlobPrefix } from "../blobs/_blob_key.ts";

/** Above every character a valid key holds, so `[prefix, prefix + END)` is every key with that prefix. */
const END = "\u007f";

/**
 * Blobs as rows of the history database. Get one from
 * `KyselyHistoryStore#blobStore()`; `close()` leaves the database open.
 *
 * @example
 * ```ts
 * import { openHistory } from "./open_history.ts";
 * import type { KyselyHistoryStore } from "./kysely_history.ts";
 * const history = await openHistory({}) as KyselyHistoryStore;
 * const blobs = history.blobStore();
 * await blobs.put("s1/report", new Uint8Array([1, 2, 3]));
 * await history.close();
 * ```
 */
export class SqlBlobStore implements BlobStore {
  readonly #db: Kysely<HistoryDatabase>;

  constructor(db: Kysely<HistoryDatabase>) {
    this.#db = db;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.#db.insertInto("blobs").values({ key: assertBlobKey(key), bytes })
      .onConflict((oc) => oc.column("key").doUpdateSet({ bytes }))
      .execute();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const row = await this.#db.selectFrom("blobs").select("bytes")
      .where("key", "=", assertBlobKey(key)).executeTakeFirst();
    return row && new Uint8Array(row.bytes);
  }

  async delete(key: string): Promise<void> {
    await this.#db.deleteFrom("blobs").where("key", "=", assertBlobKey(key)).execute();
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertBlobPrefix(prefix);
    await this.#db.deleteFrom("blobs")
      .where("key", ">=", prefix).where("key", "<", prefix + END).execute();
  }

  async list(prefix: string): Promise<string[]> {
    assertBlobPrefix(prefix);
    const rows = await this.#db.selectFrom("blobs").select("key")
      .where("key", ">=", prefix).where("key", "<", prefix + END).orderBy("key").execute();
    return rows.map((r) => r.key);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
