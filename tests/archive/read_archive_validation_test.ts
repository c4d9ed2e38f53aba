import assert from "node:assert/strict";
import { readArchive } from "../../src/archive/read_archive.ts";
import type { ArchiveLimits } from "../../src/archive/archive_format.ts";
import { TooLargeError, ValidationError } from "../../src/errors.ts";
import {
  assertCorruptionRefused,
  replaced,
  sampleArchive,
  sampleFiles,
  seal,
} from "./_fixtures.ts";
import { entriesOf, gzip, streamOf, tarGzOf, tarOf } from "./_tar_helpers.ts";

const AT = "2024-05-01T12:00:00.000Z";

async function rejects(
  archive: Uint8Array,
  cls: typeof ValidationError | typeof TooLargeError,
  message: RegExp,
  limits: Partial<ArchiveLimits> = {},
): Promise<void> {
  await assert.rejects(readArchive(streamOf(archive), limits), (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    assert.equal(err.status, cls === TooLargeError ? 413 : 400);
    assert.match(err.message, message);
    return true;
  });
}

const line = (value: unknown) => JSON.stringify(value) + "\n";

Deno.test("a file that appears twice is rejected with 400", async () => {
  const files = await sampleFiles();
  await rejects(await seal([...files, files[0]]), ValidationError, /'session\.json' appears twice/);
});

Deno.test("a file outside the format is rejected with 400", async () => {
  const files = await sampleFiles();
  await rejects(
    await seal([...files, { name: "notes.txt", body: "x" }]),
    ValidationError,
    /'notes\.txt' is not a file of the archive format/,
  );
  await rejects(
    await seal([...files, { name: "blobs/.hidden", body: "x" }]),
    ValidationError,
    /'blobs\/\.hidden' is not a file/,
  );
});

Deno.test("a path with a backslash is rejected with 400", async () => {
  const files = await sampleFiles();
  await rejects(
    await seal([...files, { name: "blobs\\..\\x", body: "x" }]),
    ValidationError,
    /has a backslash/,
  );
});

Deno.test("a file missing from the manifest is rejected with 400", async () => {
  const entries = await entriesOf(await sampleArchive());
  const manifest = entries.pop()!;
  const archive = await tarGzOf([...entries, { name: "blobs/extra", body: "x" }, manifest]);
  await rejects(archive, ValidationError, /'blobs\/extra' is not in the manifest/);
});

Deno.test("a manifest entry without its file is rejected with 400", async () => {
  const entries = (await entriesOf(await sampleArchive())).filter((e) => e.name !== "blobs/a");
  await rejects(
    await tarGzOf(entries),
    ValidationError,
    /lists 'blobs\/a' but the archive has no such file/,
  );
});

Deno.test("a malformed manifest is rejected with 400", async () => {
  const files = await sampleFiles();
  await rejects(
    await tarGzOf([...files, { name: "manifest.json", body: "{" }]),
    ValidationError,
    /manifest\.json is not valid JSON/,
  );
  const wrongFormat = JSON.stringify({ format: "2", session: "s1", files: {} });
  await rejects(
    await tarGzOf([...files, { name: "manifest.json", body: wrongFormat }]),
    ValidationError,
    /manifest\.json is invalid at format/,
  );
});

Deno.test("a manifest for another session is rejected with 400", async () => {
  await rejects(
    await seal(await sampleFiles(), "s2"),
    ValidationError,
    /manifest is for session 's2', not 's1'/,
  );
});

Deno.test("a missing jsonl file is rejected with 400", async () => {
  const files = (await sampleFiles()).filter((f) => f.name !== "checkpoints.jsonl");
  await rejects(await seal(files), ValidationError, /Archive has no checkpoints\.jsonl/);
});

Deno.test("a session id outside ^[A-Za-z0-9_-]{1,128}$ is rejected with 400", async () => {
  const files = await sampleFiles();
  const session = JSON.parse(new TextDecoder().decode(files[0].body as Uint8Array));
  const archive = await seal(
    replaced(files, "session.json", JSON.stringify({ ...session, id: "../s1" })),
    "s1",
  );
  await rejects(archive, ValidationError, /session\.json is invalid at id: Id must match/);
});

Deno.test("an event of another session is rejected with 400", async () => {
  const events = line({ sessionId: "other", seq: 1, type: "created", data: {}, at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "events.jsonl", events)),
    ValidationError,
    /event 1 belongs to session 'other', not 's1'/,
  );
});

Deno.test("events with a seq gap are rejected with 400", async () => {
  const events = [1, 3].map((seq) => line({ sessionId: "s1", seq, type: "x", data: null, at: AT }))
    .join("");
  await rejects(
    await seal(replaced(await sampleFiles(), "events.jsonl", events)),
    ValidationError,
    /seq 1\.\.n without gaps: line 2 has seq 3/,
  );
});

Deno.test("messages out of seq order are rejected with 400", async () => {
  const messages = [5, 4].map((seq) =>
    line({ id: `m${seq}`, seq, role: "user", content: "", at: AT })
  ).join("");
  await rejects(
    await seal(replaced(await sampleFiles(), "messages.jsonl", messages)),
    ValidationError,
    /messages must have strictly increasing seq: 4 follows 5/,
  );
});

Deno.test("a jsonl line that is not JSON is rejected with 400 naming file and line", async () => {
  const messages = line({ id: "m1", seq: 2, role: "user", content: "hi", at: AT }) + "{oops\n";
  await rejects(
    await seal(replaced(await sampleFiles(), "messages.jsonl", messages)),
    ValidationError,
    /messages\.jsonl line 2 is not valid JSON/,
  );
});

Deno.test("a jsonl row of the wrong shape is rejected with 400 naming file, line and field", async () => {
  const results = line({ seq: 1, key: "k", partial: "yes", data: 1, bytes: 1, at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "results.jsonl", results)),
    ValidationError,
    /results\.jsonl line 1 is invalid at partial/,
  );
  const extra = line({ id: "c", seq: 1, version: 1, final: true, state: {}, at: AT, sneaky: 1 });
  await rejects(
    await seal(replaced(await sampleFiles(), "checkpoints.jsonl", extra)),
    ValidationError,
    /checkpoints\.jsonl line 1 is invalid/,
  );
});

Deno.test("a result naming a blob the archive lacks is rejected with 400", async () => {
  const results = line({ seq: 1, key: "k", partial: false, blob: "missing", bytes: 1, at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "results.jsonl", results)),
    ValidationError,
    /result 1 names blob 'missing', which the archive lacks/,
  );
});

Deno.test("a result pointing outside its own blobs is rejected with 400", async () => {
  const results = line({ seq: 1, key: "k", partial: false, blob: "../other/x", bytes: 1, at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "results.jsonl", results)),
    ValidationError,
    /results\.jsonl line 1 is invalid at blob: Expected a blob name/,
  );
});

Deno.test("a message over maxMessageBytes is rejected with 413", async () => {
  const messages = line({ id: "m1", seq: 2, role: "user", content: "x".repeat(200), at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "messages.jsonl", messages)),
    TooLargeError,
    /Message 2 content is 200 bytes, over the limit of 100/,
    {
      maxMessageBytes: 100,
    },
  );
});

Deno.test("a checkpoint state over maxStateBytes is rejected with 413", async () => {
  const state = { big: "y".repeat(300) };
  const checkpoints = line({ id: "c1", seq: 2, version: 2, final: true, state, at: AT });
  await rejects(
    await seal(replaced(await sampleFiles(), "checkpoints.jsonl", checkpoints)),
    TooLargeError,
    /Checkpoint 'c1' state is \d+ bytes, over the limit of 200/,
    {
      maxStateBytes: 200,
    },
  );
});

Deno.test("a jsonl line longer than its item limit is rejected with 413 before it is parsed", async () => {
  const messages = "x".repeat(6 * 10 + 64 * 1024 + 1);
  await rejects(
    await seal(replaced(await sampleFiles(), "messages.jsonl", messages)),
    TooLargeError,
    /messages\.jsonl line 1 is over the limit of 65596 bytes/,
    {
      maxMessageBytes: 10,
    },
  );
});

Deno.test("any corruption of the tar inside valid gzip is either harmless or rejected with a DenizenError", async () => {
  const tar = await tarOf(await entriesOf(await sampleArchive()));
  await assertCorruptionRefused(tar, gzip, 61);
});
