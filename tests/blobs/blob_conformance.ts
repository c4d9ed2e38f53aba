/**
 * One conformance suite for every {@linkcode BlobStore}.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { BlobStore } from "../../src/blobs/blob_store.ts";
import { ValidationError } from "../../src/errors.ts";

/** How the suite registers its tests. */
export interface BlobConformanceOptions {
  /** Deno's resource and op sanitizers; a driver with a pool (pg) needs them off. Default true. */
  sanitize?: boolean;
}

const bytes = (...values: number[]) => new Uint8Array(values);

/** Registers the suite under `name`; `open` must give a fresh, empty store. */
export function blobConformance(
  name: string,
  open: () => Promise<BlobStore>,
  options: BlobConformanceOptions = {},
): void {
  const sanitize = options.sanitize ?? true;
  const test = (title: string, fn: (store: BlobStore) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      sanitizeResources: sanitize,
      sanitizeOps: sanitize,
      async fn() {
        const store = await open();
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      },
    });

  test("put() then get() gives the same bytes; a missing key gives undefined", async (store) => {
    await store.put("s1/a", bytes(1, 2, 3));
    assert.deepEqual(await store.get("s1/a"), bytes(1, 2, 3));
    assert.equal(await store.get("s1/missing"), undefined);
    await store.put("s1/empty", bytes());
    assert.deepEqual(await store.get("s1/empty"), bytes());
  });

  test("put() over an existing key replaces its bytes", async (store) => {
    await store.put("s1/a", bytes(1));
    await store.put("s1/a", bytes(2, 2));
    assert.deepEqual(await store.get("s1/a"), bytes(2, 2));
  });

  test("any bytes round-trip exactly", async (store) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (data) => {
        await store.put("p/blob", data);
        assert.deepEqual(await store.get("p/blob"), data);
      }),
      { numRuns: 25 },
    );
  });

  test("a large blob round-trips", async (store) => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    await store.put("s/big.bin", big);
    assert.deepEqual(await store.get("s/big.bin"), big);
  });

  test("list() gives the keys with a prefix, sorted", async (store) => {
    for (const key of ["s2/b", "s1/z", "s1/a", "s10/a", "s1/deep/x", "top"]) {
      await store.put(key, bytes(1));
    }
    assert.deepEqual(await store.list("s1/"), ["s1/a", "s1/deep/x", "s1/z"]);
    assert.deepEqual(await store.list("s1"), ["s1/a", "s1/deep/x", "s1/z", "s10/a"]);
    assert.deepEqual(await store.list(""), ["s1/a", "s1/deep/x", "s1/z", "s10/a", "s2/b", "top"]);
    assert.deepEqual(await store.list("nope/"), []);
  });

  test("delete() removes one key and deletePrefix() removes a session's blobs only", async (store) => {
    for (const key of ["s1/a", "s1/b", "s1/deep/c", "s10/a", "s2/a"]) {
      await store.put(key, bytes(1));
    }
    await store.delete("s1/a");
    await store.delete("s1/never");
    assert.equal(await store.get("s1/a"), undefined);
    await store.deletePrefix("s1/");
    assert.deepEqual(await store.list(""), ["s10/a", "s2/a"]);
    await store.deletePrefix("s1/");
    await store.deletePrefix("s");
    assert.deepEqual(await store.list(""), []);
  });

  test("keys that could escape or are malformed are rejected with 400", async (store) => {
    const bad = [
      "../x",
      "a/../../x",
      "..",
      ".",
      "a/./b",
      "/etc/passwd",
      "a//b",
      "a/",
      "",
      "a\\b",
      "..\\x",
      "a b",
      "a\u0000b",
      "ü",
      "a/%2e%2e/b",
      "x".repeat(2000),
    ];
    for (const key of bad) {
      await assert.rejects(store.put(key, bytes(1)), ValidationError, key);
      await assert.rejects(store.get(key), ValidationError, key);
      await assert.rejects(store.delete(key), ValidationError, key);
    }
    for (const prefix of ["../", "/", "a/../", "/etc", ".."]) {
      await assert.rejects(store.list(prefix), ValidationError, prefix);
      await assert.rejects(store.deletePrefix(prefix), ValidationError, prefix);
    }
    assert.deepEqual(await store.list(""), []);
  });
}
