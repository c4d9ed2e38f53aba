import assert from "node:assert/strict";
import { FORMAT_VERSION } from "../../src/archive/archive_format.ts";
import { ManualClock } from "../../src/clock.ts";
import { emptyCoordination, RECORD_BYTES } from "../../src/coordination/model.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";
import { build, exported, memoryRuntime, type Script } from "./_session_scripts.ts";
import { seal } from "./_fixtures.ts";
import { entriesOf, manifestOf, type RawEntry, streamOf, tarGzOf } from "./_tar_helpers.ts";

/** A session with every kind of record: timers, approvals pending and decided, tasks with deps (one behind an approval, one done, one claimed), conflicts open and resolved, and a blob. */
function plan(end: Script["end"]): Script {
  return {
    name: "plan",
    tags: ["p"],
    end,
    steps: [
      { t: "big", key: "report", fill: "r" },
      { t: "timer", minutes: 30, data: { n: 1 }, patch: false },
      { t: "timer", minutes: 10, data: 5, patch: true },
      { t: "approval", prompt: "Ship?", onDeadline: false },
      { t: "approval", prompt: "Which?", options: ["yes", "no"], onDeadline: true },
      { t: "decide", pick: 1, option: 0, comment: "fine" },
      { t: "tasks", titles: ["find", "write", "check"], deps: [], gated: false },
      { t: "tasks", titles: ["publish"], deps: [2], gated: true },
      { t: "work", agent: "planner", result: { found: 1 }, finish: true },
      { t: "claim", agent: "writer" },
      { t: "conflict", entity: "ACME", claims: ["up", "down"], severity: "high" },
      { t: "conflict", entity: "Beta", claims: ["a", "b"], severity: "low" },
      { t: "resolve", pick: 0, resolution: "up" },
      { t: "checkpoint", label: "with records" },
    ],
  };
}

/** Every view of a session's records the runtime offers. */
async function records(rt: Runtime, id: string) {
  return {
    coordination: await rt.coordination(id),
    timers: await rt.timers(id),
    approvals: await rt.approvals(id),
    tasks: await rt.tasks(id),
    conflicts: await rt.conflicts(id),
  };
}

/** Nothing of any session is left: no listed session, no blob, no history row of `id`. */
async function assertEmpty(rt: Runtime, id: string): Promise<void> {
  assert.deepStrictEqual((await rt.list()).items, []);
  assert.deepStrictEqual(await internals(rt).stores.blobs.list(""), []);
  assert.equal(await internals(rt).history.getSession(id), undefined);
  assert.equal(await internals(rt).history.lastSeq(id), 0);
}

const text = (e: RawEntry) =>
  typeof e.body === "string" ? e.body : new TextDecoder().decode(e.body);

/** The entries of `archive` without its manifest, with `name`'s body changed by `change`. */
async function editedFiles(
  archive: Uint8Array,
  name: string,
  change: (body: string) => string,
): Promise<RawEntry[]> {
  return (await entriesOf(archive))
    .filter((e) => e.name !== "manifest.json")
    .map((e) => (e.name === name ? { ...e, body: change(text(e)) } : e));
}

/** `value` without the keys named. */
function without(value: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));
}

/**
 * The archive as format 1 wrote it: no coordination.json, no counts,
 * checkpoints without coordination, agents or phase. With `events: false`,
 * the checkpoint events keep theirs, as in archives written while the
 * events had them but the history store did not keep them.
 */
async function asFormat1(
  archive: Uint8Array,
  id: string,
  opts = { events: true },
): Promise<Uint8Array> {
  const lines = (body: string, change: (row: Record<string, unknown>) => Record<string, unknown>) =>
    body.split("\n").filter((l) => l !== "").map((l) =>
      JSON.stringify(change(JSON.parse(l))) + "\n"
    )
      .join("");
  const v1 = (await entriesOf(archive))
    .filter((e) => e.name !== "manifest.json" && e.name !== "coordination.json")
    .map((e) => {
      if (e.name === "session.json") {
        const session = without(JSON.parse(text(e)), "pendingApprovals", "openConflicts");
        return { ...e, body: JSON.stringify(session) + "\n" };
      }
      if (e.name === "checkpoints.jsonl") {
        return { ...e, body: lines(text(e), (c) => without(c, "coordination", "agents", "phase")) };
      }
      if (e.name === "events.jsonl" && opts.events) {
        return {
          ...e,
          body: lines(text(e), (ev) =>
            ev.type === "checkpoint"
              ? {
                ...ev,
                data: without(
                  ev.data as Record<string, unknown>,
                  "coordination",
                  "agents",
                  "phase",
                ),
              }
              : ev),
        };
      }
      return e;
    });
  return seal(v1, id, 1);
}

Deno.test("a format 1 archive (no coordination.json) imports, active or completed, with no records and counts of none", async () => {
  for (const end of ["active", "completed"] as const) {
    const source = await memoryRuntime();
    const target = await memoryRuntime();
    try {
      const s = await build(source, {
        name: "old",
        tags: [],
        end,
        steps: [
          { t: "message", role: "user", content: "hi" },
          { t: "agent", name: "planner", progress: 0.5 },
          { t: "checkpoint", label: "old" },
        ],
      });
      const archive = await asFormat1(await exported(source, s.id), s.id);
      assert.deepStrictEqual((await manifestOf(archive) as { format: number }).format, 1);
      const imported = await target.import(streamOf(archive));
      assert.deepStrictEqual(await records(target, s.id), {
        coordination: emptyCoordination(),
        timers: [],
        approvals: [],
        tasks: [],
        conflicts: [],
      });
      assert.equal(imported.pendingApprovals, 0);
      assert.equal(imported.openConflicts, 0);
      assert.equal(imported.version, s.version);
      const again = await entriesOf(await exported(target, s.id));
      assert.equal(
        text(again.find((e) => e.name === "coordination.json")!),
        '{"approvals":{},"conflicts":{},"tasks":{},"timers":{}}\n',
      );
      assert.equal(
        (JSON.parse(text(again.at(-1)!)) as { format: number }).format,
        FORMAT_VERSION,
      );
    } finally {
      await source.close();
      await target.close();
    }
  }
});

Deno.test("a checkpoint row may leave out its event's coordination, agents and phase, but not disagree with them", async () => {
  const source = await memoryRuntime();
  const s = await build(source, plan("paused"));
  const archive = await exported(source, s.id);
  await source.close();
  const rt = await memoryRuntime();
  try {
    const imported = await rt.import(streamOf(await asFormat1(archive, s.id, { events: false })));
    assert.equal(imported.version, s.version);
    const [latest] = await rt.checkpoints(s.id);
    assert.equal(latest.label, "pause");
  } finally {
    await rt.close();
  }
  const files = await editedFiles(
    archive,
    "checkpoints.jsonl",
    (body) =>
      body.split("\n").filter((l) => l !== "").map((l) =>
        JSON.stringify({ ...JSON.parse(l), phase: "forged" }) + "\n"
      ).join(""),
  );
  const sealed = await seal(files, s.id);
  const forged = await memoryRuntime();
  try {
    await assert.rejects(() => forged.import(streamOf(sealed)), {
      status: 400,
      message: /checkpoints\.jsonl row at seq \d+ does not match a checkpoint event/,
    });
    await assertEmpty(forged, s.id);
  } finally {
    await forged.close();
  }
});

Deno.test("a v2 archive round-trips every record exactly, for an active and for a completed session", async () => {
  for (const end of ["active", "completed"] as const) {
    const source = await memoryRuntime();
    const target = await memoryRuntime();
    try {
      const s = await build(source, plan(end));
      const before = await records(source, s.id);
      const statuses = (xs: { status: string }[]) => xs.map((x) => x.status).sort();
      assert.deepStrictEqual(
        statuses(before.tasks),
        // The session's end expires the approval that gates the fourth task, which drops it.
        end === "active"
          ? ["blocked", "blocked", "claimed", "done"]
          : ["blocked", "claimed", "done"],
      );
      assert.deepStrictEqual(statuses(before.conflicts), ["open", "resolved"]);
      assert.deepStrictEqual(
        statuses(before.approvals),
        end === "active" ? ["decided", "pending", "pending"] : ["decided", "expired", "expired"],
      );
      assert.equal(before.timers.length, end === "active" ? 2 : 0);
      assert.equal(s.pendingApprovals, end === "active" ? 2 : 0);
      assert.equal(s.openConflicts, 1);

      const archive = await exported(source, s.id);
      const imported = await target.import(streamOf(archive));
      assert.deepStrictEqual(imported, s);
      assert.deepStrictEqual(await records(target, s.id), before);
      assert.deepStrictEqual(
        await target.checkpoints(s.id),
        await source.checkpoints(s.id),
      );
      assert.deepStrictEqual(await exported(target, s.id), archive);
    } finally {
      await source.close();
      await target.close();
    }
  }
});

Deno.test("an imported live session goes on with its records: the holder completes its task, a person decides, a timer fires", async () => {
  const clock = new ManualClock();
  const source = await memoryRuntime({ clock });
  const target = await memoryRuntime({ clock });
  try {
    const s = await build(source, plan("active"));
    await target.import(streamOf(await exported(source, s.id)));
    const [claimed] = await target.tasks(s.id, { status: "claimed" });
    await target.completeTask(s.id, claimed.id, { agent: "writer", result: "done" });
    assert.deepStrictEqual(
      (await target.tasks(s.id)).map((t) => [t.id, t.status]),
      [["task-1", "done"], ["task-2", "done"], ["task-3", "ready"], ["task-4", "blocked"]],
    );
    const [pending] = await target.approvals(s.id, { status: "pending" });
    await target.decide(s.id, pending.id, { option: pending.options[0] });
    assert.equal((await target.get(s.id)).pendingApprovals, 1);
    clock.advance(11 * 60_000);
    await target.runDue();
    assert.equal((await target.timers(s.id)).length, 1);
    assert.equal((await target.get(s.id)).state.t0, 5);
  } finally {
    await source.close();
    await target.close();
  }
});

Deno.test("an import recomputes pendingApprovals and openConflicts from coordination.json, whatever session.json says", async () => {
  const source = await memoryRuntime();
  const target = await memoryRuntime();
  try {
    const s = await build(source, plan("paused"));
    const files = await editedFiles(
      await exported(source, s.id),
      "session.json",
      (body) =>
        JSON.stringify({ ...JSON.parse(body), pendingApprovals: 5, openConflicts: 7 }) + "\n",
    );
    const imported = await target.import(streamOf(await seal(files, s.id)));
    assert.equal(imported.pendingApprovals, 2);
    assert.equal(imported.openConflicts, 1);
    assert.deepStrictEqual(imported, s);
  } finally {
    await source.close();
    await target.close();
  }
});

Deno.test("a tampered coordination.json fails its checksum with 400 and leaves nothing behind", async () => {
  const source = await memoryRuntime();
  const s = await build(source, plan("active"));
  const archive = await exported(source, s.id);
  await source.close();
  const entries = await entriesOf(archive);
  const tampered = await tarGzOf(
    entries.map((e) =>
      e.name === "coordination.json"
        ? { ...e, body: text(e).replace('"status":"open"', '"status":"resolved"') }
        : e
    ),
  );
  const rt = await memoryRuntime();
  try {
    await assert.rejects(() => rt.import(streamOf(tampered)), {
      status: 400,
      message: "Archive file 'coordination.json' fails its checksum",
    });
    await assertEmpty(rt, s.id);
  } finally {
    await rt.close();
  }
});

Deno.test("a coordination.json with a __proto__ key, a bad status or an oversized record is refused over HTTP with 400 and leaves no session and no blob", async () => {
  const source = await memoryRuntime();
  const s = await build(source, plan("active"));
  const archive = await exported(source, s.id);
  await source.close();
  const edit =
    (change: (c: Record<string, Record<string, Record<string, unknown>>>) => void) => async () => {
      const files = await editedFiles(archive, "coordination.json", (body) => {
        const c = JSON.parse(body);
        change(c);
        return JSON.stringify(c) + "\n";
      });
      return seal(files, s.id);
    };
  const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
    [
      "a __proto__ record",
      async () =>
        seal(
          await editedFiles(archive, "coordination.json", (body) =>
            body.replace('"tasks":{', `"tasks":{"__proto__":{"polluted":true},`)),
          s.id,
        ),
      /at tasks: A '__proto__' key is not allowed/,
    ],
    [
      "a bad status",
      edit((c) => (c.tasks["task-2"].status = "hijacked")),
      /at tasks\.task-2\.status: Invalid option/,
    ],
    [
      "an oversized record",
      edit((c) => (c.conflicts[Object.keys(c.conflicts)[0]].resolution = "x".repeat(RECORD_BYTES))),
      /A conflict is \d+ bytes, over the limit of 49152/,
    ],
  ];
  for (const [what, body, message] of cases) {
    const rt = await memoryRuntime();
    try {
      const res = await rt.app.request("/v1/sessions/import", {
        method: "POST",
        body: new Uint8Array(await body()),
      });
      assert.equal(res.status, 400, what);
      const { error } = await res.json();
      assert.equal(error.code, "invalid", what);
      assert.match(error.message, /^Archive coordination\.json is invalid/, what);
      assert.match(error.message, message, what);
      await assertEmpty(rt, s.id);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    } finally {
      await rt.close();
    }
  }
});
