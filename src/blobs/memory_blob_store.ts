/**
 * A {@linkcode BlobStore} in memory, for tests.
 *
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import { assertBlobKey, assertBlobPrefix } from "./_blob_key.ts";

/** Runs `fn` now; its result or its throw becomes a settled promise, as with a real store. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/**
 * Blobs in a map; bytes are copied in and out.
 *
 * @example
 * ```ts
 * const blobs = new MemoryBlobStore();
 * await blobs.put("s1/report", new TextEncoder().encode("hello"));
 * console.log(await blobs.list("s1/")); // ["s1/report"]
 * ```
 */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, Uint8Array>();

  put(key: string, bytes: Uint8Array): Promise<void> {
    return settle(() => void this.#blobs.set(assertBlobKey(key), bytes.slice()));
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return settle(() => this.#blobs.get(assertBlobKey(key))?.slice());
  }

  delete(key: string): Promise<void> {
    return settle(() => void this.#blobs.delete(assertBlobKey(key)));
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const key of await this.list(prefix)) this.#blobs.delete(key);
  }

  list(prefix: string): Promise<string[]> {
    return settle(() => {
      assertBlobPrefix(prefix);
      return [...this.#blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
    });
  }

  close(): Promise<void> {
    return settle(() => this.#blobs.clear());
  }
}
