import assert from "node:assert/strict";
import { readArchive } from "../../src/archive/read_archive.ts";
import type { ArchiveLimits } from "../../src/archive/archive_format.ts";
import { TooLargeError, ValidationError } from "../../src/errors.ts";
import { assertCorruptionRefused, sampleArchive, sampleFiles, seal } from "./_fixtures.ts";
import { entriesOf, gzip, streamOf, tarGzOf, tarOf } from "./_tar_helpers.ts";
import type { RawEntry } from "./_tar_helpers.ts";

type ErrorClass = typeof ValidationError | typeof TooLargeError;

/** Reading `archive` rejects with `cls` (and its status) and a message matching `message`. */
async function rejects(
  archive: Uint8Array | ReadableStream<Uint8Array>,
  cls: ErrorClass,
  message: RegExp,
  limits: Partial<ArchiveLimits> = {},
): Promise<void> {
  const body = archive instanceof Uint8Array ? streamOf(archive) : archive;
  await assert.rejects(readArchive(body, limits), (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    assert.equal(err.status, cls === TooLargeError ? 413 : 400);
    assert.match(err.message, message);
    return true;
  });
}

async function withExtra(entry: RawEntry): Promise<Uint8Array> {
  return seal([...(await sampleFiles()), entry]);
}

Deno.test("the sample archive itself is accepted, so each rejection below is about its one change", async () => {
  const contents = await readArchive(streamOf(await sampleArchive()));
  assert.equal(contents.session.id, "s1");
  assert.deepStrictEqual(contents.blobs.get("a"), new Uint8Array([1, 2, 3]));
});

Deno.test("an entry with a '..' path is rejected with 400", async () => {
  await rejects(
    await withExtra({ name: "../x", body: "evil" }),
    ValidationError,
    /'\.\.\/x' has a '\.\.' segment/,
  );
  await rejects(
    await withExtra({ name: "blobs/../../x", body: "evil" }),
    ValidationError,
    /'blobs\/\.\.\/\.\.\/x' has a '\.\.' segment/,
  );
});

Deno.test("an entry with an absolute path is rejected with 400", async () => {
  await rejects(
    await withExtra({ name: "/etc/x", body: "evil" }),
    ValidationError,
    /'\/etc\/x' has an absolute path/,
  );
});

Deno.test("a symbolic link is rejected with 400, even under blobs/", async () => {
  await rejects(
    await withExtra({ name: "blobs/link", type: "symlink", linkname: "/etc/passwd" }),
    ValidationError,
    /'blobs\/link' is a symbolic link to '\/etc\/passwd'; links are not allowed/,
  );
});

Deno.test("a hard link is rejected with 400", async () => {
  await rejects(
    await withExtra({ name: "blobs/hard", type: "link", linkname: "session.json" }),
    ValidationError,
    /'blobs\/hard' is a hard link to 'session\.json'; links are not allowed/,
  );
});

Deno.test("a file whose bytes differ from the manifest's checksum is rejected with 400", async () => {
  const entries = await entriesOf(await sampleArchive());
  const tampered = entries.map((e) =>
    e.name === "session.json"
      ? { ...e, body: new TextDecoder().decode(e.body as Uint8Array).replace("sample", "sampl3") }
      : e
  );
  await rejects(await tarGzOf(tampered), ValidationError, /'session\.json' fails its checksum/);
});

Deno.test("an entry over maxEntryBytes is rejected with 413 from its declared size", async () => {
  const big = { name: "blobs/big", body: new Uint8Array(4096) };
  await rejects(
    await withExtra(big),
    TooLargeError,
    /'blobs\/big' is over the limit of 1024 bytes/,
    {
      maxEntryBytes: 1024,
    },
  );
});

Deno.test("a jsonl file over maxJsonlBytes is rejected with 413", async () => {
  await rejects(
    await sampleArchive(),
    TooLargeError,
    /'events\.jsonl' is over the limit of 64 bytes/,
    {
      maxJsonlBytes: 64,
    },
  );
});

Deno.test("a gzip bomb stops at maxTotalBytes with 413, long before its input is read", async () => {
  const bomb = await gzip(
    await tarOf([{ name: "blobs/zeros", body: new Uint8Array(64 * 1024 * 1024) }]),
  );
  assert.ok(
    bomb.byteLength > 50_000 && bomb.byteLength < 200_000,
    `bomb is ${bomb.byteLength} bytes`,
  );
  const pulled = { bytes: 0 };
  await rejects(
    streamOf(bomb, 4096, pulled),
    TooLargeError,
    /inflates to over the limit of 4194304 bytes/,
    {
      maxTotalBytes: 4 * 1024 * 1024,
      maxEntryBytes: 1024 * 1024 * 1024,
      maxResultBytes: 1024 * 1024 * 1024,
    },
  );
  assert.ok(pulled.bytes < bomb.byteLength / 4, `read ${pulled.bytes} of ${bomb.byteLength} bytes`);
});

Deno.test("input over maxCompressedBytes is rejected with 413 while it streams", async () => {
  const archive = await sampleArchive();
  await rejects(archive, TooLargeError, /over the limit of 100 compressed bytes/, {
    maxCompressedBytes: 100,
  });
});

Deno.test("more entries than maxEntries are rejected with 413", async () => {
  await rejects(await sampleArchive(), TooLargeError, /over the limit of 3 entries/, {
    maxEntries: 3,
  });
});

Deno.test("a gzip stream cut in the middle is rejected with 400", async () => {
  const archive = await sampleArchive();
  await rejects(
    archive.subarray(0, archive.byteLength >> 1),
    ValidationError,
    /not a valid gzip stream/,
  );
});

Deno.test("a tar cut in the middle of an entry, inside valid gzip, is rejected with 400", async () => {
  const entries = await entriesOf(await sampleArchive());
  const tar = await tarOf(entries);
  await rejects(
    await gzip(tar.subarray(0, 1500)),
    ValidationError,
    /not a valid tar stream: Unexpected end of data/,
  );
});

Deno.test("bytes that are not gzip at all are rejected with 400", async () => {
  await rejects(
    new TextEncoder().encode("PK\u0003\u0004 not a tarball"),
    ValidationError,
    /not a valid gzip stream/,
  );
});

Deno.test("an archive without manifest.json is rejected with 400", async () => {
  await rejects(
    await tarGzOf(await sampleFiles()),
    ValidationError,
    /Archive has no manifest\.json/,
  );
});

Deno.test("special files and directories outside blobs/ are rejected with 400", async () => {
  await rejects(
    await withExtra({ name: "fifo", type: "fifo" }),
    ValidationError,
    /'fifo' is a fifo; only regular files/,
  );
  await rejects(
    await withExtra({ name: "etc/", type: "directory" }),
    ValidationError,
    /'etc\/' is a directory outside blobs\//,
  );
});

Deno.test("directory entries for blobs/ are skipped, as tar tools write them", async () => {
  const files = await sampleFiles();
  const contents = await readArchive(
    streamOf(await seal([{ name: "blobs/", type: "directory" }, ...files])),
  );
  assert.deepStrictEqual([...contents.blobs.keys()], ["a"]);
});

Deno.test("any corruption of a valid archive is either harmless or rejected with a DenizenError", async () => {
  await assertCorruptionRefused(await sampleArchive(), (bytes) => Promise.resolve(bytes), 37);
});

Deno.test("a rejected archive cancels its input stream, even one that never ends", async () => {
  const archive = await withExtra({ name: "../x", body: "evil" });
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(archive); // then never closes
    },
    cancel() {
      cancelled = true;
    },
  });
  await rejects(body, ValidationError, /'\.\.\/x' has a '\.\.' segment/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(cancelled, "the input stream was not cancelled");
});
