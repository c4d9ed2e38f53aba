import assert from "node:assert/strict";
import { readArchive } from "../../src/archive/read_archive.ts";
import { writeArchive } from "../../src/archive/write_archive.ts";
import type { ArchiveLimits } from "../../src/archive/archive_format.ts";
import { emptyCoordination, RECORD_BYTES } from "../../src/coordination/model.ts";
import { TooLargeError, ValidationError } from "../../src/errors.ts";
import { replaced, sampleContents, sampleCoordination, sampleFiles, seal } from "./_fixtures.ts";
import { collect, entriesOf, streamOf } from "./_tar_helpers.ts";

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

/** The sample archive with `coordination.json` replaced by `body`, sealed with a correct manifest. */
async function withCoordination(body: string): Promise<Uint8Array> {
  return seal(replaced(await sampleFiles(), "coordination.json", body));
}

/** `sampleCoordination()` as JSON text, after `change` edits its parsed form. */
function edited(change: (c: Record<string, Record<string, Record<string, unknown>>>) => void) {
  const c = JSON.parse(JSON.stringify(sampleCoordination()));
  change(c);
  return JSON.stringify(c);
}

Deno.test("coordination.json is read back exactly, and an archive without records reads empty", async () => {
  const contents = { ...sampleContents(), coordination: sampleCoordination() };
  const read = await readArchive(streamOf(await collect(writeArchive(contents))));
  assert.deepStrictEqual(read.coordination, sampleCoordination());
  const empty = await readArchive(streamOf(await collect(writeArchive(sampleContents()))));
  assert.deepStrictEqual(empty.coordination, emptyCoordination());
  const entries = await entriesOf(await collect(writeArchive(sampleContents())));
  assert.equal(
    new TextDecoder().decode(
      entries.find((e) => e.name === "coordination.json")!.body as Uint8Array,
    ),
    '{"approvals":{},"conflicts":{},"tasks":{},"timers":{}}\n',
  );
});

Deno.test("an archive of format 1, without coordination.json, reads with no records", async () => {
  const files = (await sampleFiles()).filter((f) => f.name !== "coordination.json");
  const read = await readArchive(streamOf(await seal(files, "s1", 1)));
  assert.deepStrictEqual(read.coordination, emptyCoordination());
  assert.equal(read.session.id, "s1");
});

Deno.test("an archive of a format newer than 2 is refused with 400 naming its format", async () => {
  await rejects(
    await seal(await sampleFiles(), "s1", 3),
    ValidationError,
    /^Archive format 3 is newer than this runtime reads \(1 to 2\)$/,
  );
});

Deno.test("format 1 with a coordination.json, or format 2 without one, is refused with 400", async () => {
  await rejects(
    await seal(await sampleFiles(), "s1", 1),
    ValidationError,
    /format 1 has a coordination\.json, which came with format 2/,
  );
  const files = (await sampleFiles()).filter((f) => f.name !== "coordination.json");
  await rejects(await seal(files), ValidationError, /Archive has no coordination\.json/);
});

Deno.test("a coordination.json with a __proto__ key is refused with 400, wherever the key is", async () => {
  const proto = (json: string) => withCoordination(json);
  await rejects(
    await proto(`{"timers":{},"approvals":{},"tasks":{},"conflicts":{},"__proto__":{}}`),
    ValidationError,
    /coordination\.json is invalid: Unrecognized key: "__proto__"/,
  );
  await rejects(
    await proto(
      `{"timers":{},"approvals":{},"conflicts":{},"tasks":{"__proto__":${
        JSON.stringify(sampleCoordination().tasks.t1)
      }}}`,
    ),
    ValidationError,
    /coordination\.json is invalid at tasks: A '__proto__' key is not allowed/,
  );
  const record = JSON.stringify(sampleCoordination().conflicts.cf1).replace(
    /^\{/,
    `{"__proto__":{"polluted":true},`,
  );
  await rejects(
    await proto(`{"timers":{},"approvals":{},"tasks":{},"conflicts":{"cf1":${record}}}`),
    ValidationError,
    /coordination\.json is invalid at conflicts\.cf1: Unrecognized key: "__proto__"/,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("a coordination record with a status outside the model's is refused with 400", async () => {
  const cases: [string, (c: Record<string, Record<string, Record<string, unknown>>>) => void][] = [
    ["approvals.ap1.status", (c) => (c.approvals.ap1.status = "maybe")],
    ["tasks.t1.status", (c) => (c.tasks.t1.status = "started")],
    ["conflicts.cf1.status", (c) => (c.conflicts.cf1.status = "closed")],
    ["conflicts.cf1.severity", (c) => (c.conflicts.cf1.severity = "urgent")],
  ];
  for (const [path, change] of cases) {
    await rejects(
      await withCoordination(edited(change)),
      ValidationError,
      new RegExp(
        `coordination\\.json is invalid at ${path.replaceAll(".", "\\.")}: Invalid option`,
      ),
    );
  }
});

Deno.test("coordination records that break the model's rules are refused with 400", async () => {
  const cases: [RegExp, (c: Record<string, Record<string, Record<string, unknown>>>) => void][] = [
    [/at tasks\.t1\.id: The task filed under 't1' has id 't9'/, (c) => (c.tasks.t1.id = "t9")],
    [/at tasks\.t2: A claimed task names its holder and lease/, (c) => delete c.tasks.t2.holder],
    [
      /at approvals\.ap2: A decided approval names its option/,
      (c) => delete c.approvals.ap2.option,
    ],
    [/at timers\.tm1\.due: Invalid ISO datetime/, (c) => (c.timers.tm1.due = "tomorrow")],
    [/at timers\.tm1: Unrecognized key: "extra"/, (c) => (c.timers.tm1.extra = 1)],
    [
      /at tasks\.bad id: Invalid key in record/,
      (c) => (c.tasks["bad id"] = { ...c.tasks.t1, id: "bad id" }),
    ],
    [/at conflicts\.cf1\.findings: Too small/, (c) => (c.conflicts.cf1.findings = [])],
    [/at timers: Invalid input: expected record/, (c) => (c.timers = [] as never)],
  ];
  for (const [message, change] of cases) {
    await rejects(await withCoordination(edited(change)), ValidationError, message);
  }
});

Deno.test("a coordination record over 48 KiB is refused with 400, a coordination.json over its limit with 413", async () => {
  const big = edited((c) => (c.tasks.t1.data = "x".repeat(RECORD_BYTES)));
  await rejects(
    await withCoordination(big),
    ValidationError,
    new RegExp(`at tasks\\.t1: A task is \\d+ bytes, over the limit of ${RECORD_BYTES}`),
  );
  await rejects(
    await withCoordination(JSON.stringify(sampleCoordination())),
    TooLargeError,
    /'coordination\.json' is over the limit of 100 bytes/,
    { maxCoordinationBytes: 100 },
  );
});

Deno.test("a checkpoint's coordination and agents are held to the same schema and limits", async () => {
  const checkpoint = { id: "c1", seq: 2, version: 2, final: true, state: { n: 1 }, at: AT };
  const line = (extra: Record<string, unknown>) => JSON.stringify({ ...checkpoint, ...extra });
  const withCheckpoint = async (body: string) =>
    seal(replaced(await sampleFiles(), "checkpoints.jsonl", body + "\n"));
  const good = line({ coordination: sampleCoordination(), agents: {}, phase: "p" });
  const read = await readArchive(streamOf(await withCheckpoint(good)));
  assert.deepStrictEqual(read.checkpoints[0].coordination, sampleCoordination());
  const bad = edited((c) => (c.tasks.t1.status = "started"));
  await rejects(
    await withCheckpoint(line({ coordination: JSON.parse(bad) })),
    ValidationError,
    /checkpoints\.jsonl line 1 is invalid at coordination\.tasks\.t1\.status/,
  );
  await rejects(
    await withCheckpoint(
      line({ agents: JSON.parse(`{"__proto__":{"status":"x","progress":0,"updatedAt":"${AT}"}}`) }),
    ),
    ValidationError,
    /checkpoints\.jsonl line 1 is invalid at agents: A '__proto__' key is not allowed/,
  );
  await rejects(
    await withCheckpoint(good),
    TooLargeError,
    /Checkpoint 'c1' coordination is \d+ bytes, over the limit of 500/,
    { maxCoordinationBytes: 500 },
  );
});
