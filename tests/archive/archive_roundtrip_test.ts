import assert from "node:assert/strict";
import fc from "fast-check";
import { readArchive } from "../../src/archive/read_archive.ts";
import { writeArchive } from "../../src/archive/write_archive.ts";
import {
  type ArchiveContents,
  type ArchiveSource,
  FORMAT_VERSION,
} from "../../src/archive/archive_format.ts";
import { ConflictError, ValidationError } from "../../src/errors.ts";
import { archiveContents } from "./_arbitraries.ts";
import { collect, entriesOf, manifestOf, sha256, streamOf } from "./_tar_helpers.ts";

Deno.test("write → read → write gives the same manifest and bytes, and read gives back the contents", async () => {
  await fc.assert(
    fc.asyncProperty(archiveContents, async (contents) => {
      const first = await collect(writeArchive(contents));
      const read = await readArchive(streamOf(first, 997));
      assert.deepStrictEqual(read, contents);
      const second = await collect(writeArchive(read));
      assert.deepStrictEqual(await manifestOf(second), await manifestOf(first));
      assert.deepStrictEqual(second, first);
    }),
    { numRuns: 150 },
  );
});

Deno.test("writeArchive writes the files of SPEC §6 in order, with a manifest over every other file", async () => {
  const [contents] = fc.sample(archiveContents.filter((c) => c.blobs.size > 0), {
    numRuns: 1,
    seed: 7,
  });
  const entries = await entriesOf(await collect(writeArchive(contents)));
  const blobPaths = [...contents.blobs.keys()].sort().map((name) => `blobs/${name}`);
  assert.deepStrictEqual(entries.map((e) => e.name), [
    "session.json",
    "coordination.json",
    "events.jsonl",
    "messages.jsonl",
    "checkpoints.jsonl",
    "results.jsonl",
    ...blobPaths,
    "manifest.json",
  ]);
  const manifest = JSON.parse(new TextDecoder().decode(entries.at(-1)!.body as Uint8Array));
  assert.equal(manifest.format, FORMAT_VERSION);
  assert.equal(FORMAT_VERSION, 2);
  assert.equal(manifest.session, contents.session.id);
  for (const entry of entries.slice(0, -1)) {
    const body = entry.body as Uint8Array;
    assert.deepStrictEqual(manifest.files[entry.name], {
      sha256: await sha256(body),
      bytes: body.byteLength,
    });
  }
  assert.equal(Object.keys(manifest.files).length, entries.length - 1);
});

Deno.test("writeArchive sorts rows by seq and blobs by name, so input order does not change the output", async () => {
  await fc.assert(
    fc.asyncProperty(archiveContents, async (contents) => {
      const shuffled: ArchiveContents = {
        ...contents,
        events: [...contents.events].reverse(),
        messages: [...contents.messages].reverse(),
        checkpoints: [...contents.checkpoints].reverse(),
        results: [...contents.results].reverse(),
        blobs: new Map([...contents.blobs].reverse()),
      };
      assert.deepStrictEqual(
        await collect(writeArchive(shuffled)),
        await collect(writeArchive(contents)),
      );
    }),
    { numRuns: 30 },
  );
});

Deno.test("writeArchive from a streaming source gives the same bytes as from whole contents", async () => {
  await fc.assert(
    fc.asyncProperty(archiveContents, async (contents) => {
      async function* rows<T>(items: T[]) {
        yield* items;
      }
      const source: ArchiveSource = {
        session: contents.session,
        coordination: contents.coordination,
        events: () => rows(contents.events),
        messages: () => rows(contents.messages),
        checkpoints: () => rows(contents.checkpoints),
        results: () => rows(contents.results),
        blobs: () => rows([...contents.blobs].sort(([a], [b]) => (a < b ? -1 : 1))),
      };
      assert.deepStrictEqual(
        await collect(writeArchive(source)),
        await collect(writeArchive(contents)),
      );
    }),
    { numRuns: 30 },
  );
});

Deno.test("writeArchive fails with 409 when a source yields more rows on its second pass", async () => {
  const [contents] = fc.sample(archiveContents, { numRuns: 1, seed: 3 });
  let calls = 0;
  const event = {
    sessionId: contents.session.id,
    type: "x",
    data: null,
    at: "2024-01-01T00:00:00.000Z",
  };
  const source: ArchiveSource = {
    session: contents.session,
    coordination: contents.coordination,
    events:
      () => (++calls === 1 ? [{ ...event, seq: 1 }] : [{ ...event, seq: 1 }, { ...event, seq: 2 }]),
    messages: () => [],
    checkpoints: () => [],
    results: () => [],
    blobs: () => [],
  };
  await assert.rejects(collect(writeArchive(source)), (err) => {
    assert.ok(err instanceof ConflictError);
    assert.equal(err.status, 409);
    assert.match(err.message, /changed while it was exported: events\.jsonl/);
    return true;
  });
});

Deno.test("writeArchive refuses a blob name that would escape blobs/ with 400", async () => {
  const [contents] = fc.sample(archiveContents, { numRuns: 1, seed: 5 });
  const evil = { ...contents, blobs: new Map([["../../etc/passwd", new Uint8Array([1])]]) };
  await assert.rejects(collect(writeArchive(evil)), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.status, 400);
    assert.match(err.message, /Blob name '\.\.\/\.\.\/etc\/passwd' is not allowed/);
    return true;
  });
});

Deno.test("writeArchive refuses rows with a repeated seq with 400", async () => {
  const [contents] = fc.sample(archiveContents, { numRuns: 1, seed: 9 });
  const message = { id: "m", seq: 4, role: "user", content: "hi", at: "2024-01-01T00:00:00.000Z" };
  await assert.rejects(
    collect(writeArchive({ ...contents, messages: [message, message] })),
    (err) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /messages\.jsonl must have strictly increasing seq \(4 after 4\)/);
      return true;
    },
  );
});
