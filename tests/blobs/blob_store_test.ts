import assert from "node:assert/strict";
import type { BlobStore } from "../../src/blobs/blob_store.ts";
import { FileBlobStore } from "../../src/blobs/file_blob_store.ts";
import { MemoryBlobStore } from "../../src/blobs/memory_blob_store.ts";
import { openHistory } from "../../src/history/open_history.ts";
import { blobConformance } from "./blob_conformance.ts";

/** `store`, whose close() also runs `after`. */
function closing(store: BlobStore, after: () => Promise<void>): BlobStore {
  return {
    put: (key, bytes) => store.put(key, bytes),
    get: (key) => store.get(key),
    delete: (key) => store.delete(key),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    list: (prefix) => store.list(prefix),
    close: async () => {
      await store.close();
      await after();
    },
  };
}

blobConformance("memory blobs", () => Promise.resolve(new MemoryBlobStore()));

blobConformance("sqlite blobs", async () => {
  const history = await openHistory({ path: ":memory:" });
  return closing(history.blobStore(), () => history.close());
});

blobConformance("file blobs", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-blobs-" });
  return closing(new FileBlobStore(`${root}/store`), () => Deno.remove(root, { recursive: true }));
});

Deno.test("file blobs are gzip files under the directory, with no temporary file left", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-blobs-" });
  try {
    const blobs = new FileBlobStore(`${root}/store`);
    await blobs.put("s1/report", new TextEncoder().encode("hello ".repeat(1000)));
    const file = await Deno.readFile(`${root}/store/s1/report.gz`);
    assert.deepEqual([file[0], file[1]], [0x1f, 0x8b]);
    assert.ok(file.length < 200, "compressed");
    const names = await Array.fromAsync(Deno.readDir(`${root}/store/s1`), (e) => e.name);
    assert.deepEqual(names, ["report.gz"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a file blob key never writes outside the directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-blobs-" });
  try {
    const blobs = new FileBlobStore(`${root}/store`);
    for (const key of ["../outside", "../../outside", "/tmp/outside", "a/../../outside"]) {
      await assert.rejects(blobs.put(key, new Uint8Array([1])));
    }
    const names = await Array.fromAsync(Deno.readDir(root), (e) => e.name);
    assert.deepEqual(names, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
