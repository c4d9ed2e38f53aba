import { MemoryBlobStore } from "../../src/blobs/memory_blob_store.ts";
import { FileBlobStore } from "../../src/blobs/file_blob_store.ts";
import { HotStore } from "../../src/hot/hot_store.ts";
import { hotTierConformance } from "./hot_tier_conformance.ts";

const layout = { graceMs: 86_400_000, snapshotEvery: 4 };

hotTierConformance("KV in memory", async () => {
  const kv = await Deno.openKv(":memory:");
  return {
    hot: new HotStore(kv, new MemoryBlobStore(), layout),
    close: () => Promise.resolve(kv.close()),
  };
});

hotTierConformance("KV on disk, blobs in files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-hot-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  const blobs = new FileBlobStore(`${dir}/blobs`);
  return {
    hot: new HotStore(kv, blobs, layout),
    close: async () => {
      kv.close();
      await blobs.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
