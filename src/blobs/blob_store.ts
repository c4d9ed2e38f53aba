/**
 * Large payloads: results over the inline limit, and event data too large
 * for one KV value while it waits in the outbox. Gzip files locally, a SQL
 * table where there is no local disk, memory in tests.
 *
 * Keys look like `<sessionId>/<name>`; `deletePrefix(sessionId + "/")`
 * removes a session's blobs.
 *
 * @module
 */

/** A store of immutable byte blobs. */
export interface BlobStore {
  /** Stores `bytes` under `key`. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, or undefined when absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Removes one blob; absent keys are ignored. */
  delete(key: string): Promise<void>;
  /** Removes every blob whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Releases the store's resources. */
  close(): Promise<void>;
}
