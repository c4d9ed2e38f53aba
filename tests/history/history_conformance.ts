/**
 * One conformance suite for every {@linkcode HistoryStore}: the SQLite and
 * PostgreSQL test files call {@linkcode historyConformance} with their opener.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { HistoryStore } from "../../src/history/history_store.ts";
import type { SessionEvent } from "../../src/session.ts";
import {
  approval,
  at,
  checkpointEvent,
  type ConformanceOptions,
  event,
  harness,
  messageEvent,
  type OpenStore,
  resultEvent,
  session,
} from "./_fixtures.ts";
import { registerListConformance } from "./_list_conformance.ts";
import { registerApprovalConformance } from "./_approval_conformance.ts";
import { registerMigrationConformance } from "./_migration_conformance.ts";

async function snapshot(store: HistoryStore, id: string) {
  return {
    session: await store.getSession(id),
    events: await store.events(id),
    messages: await store.messages(id, { limit: 1000 }),
    results: await store.results(id),
    checkpoints: await store.checkpoints(id),
  };
}

/** Registers the whole suite under `name`; `open` must give a fresh, empty, migrated store. */
export function historyConformance(
  name: string,
  open: OpenStore,
  options: ConformanceOptions = {},
): void {
  const test = harness(name, open, options);

  test("migrate() twice is harmless and ping() answers", async (store) => {
    await store.migrate();
    await store.ping();
    assert.ok(["sqlite", "postgres"].includes(store.dialect));
    assert.deepEqual(await store.countSessions(), {});
  });

  test("getSession() round-trips a record exactly, optional fields absent or present", async (store) => {
    const plain = session("plain");
    const full = session("full", {
      name: "Full one",
      tags: ["a", "b"],
      meta: { owner: "ann", nested: { n: 1 } },
      status: "completed",
      state: { query: "x", list: [1, 2] },
      pendingApprovals: 0,
      openConflicts: 2,
      coordination: {
        timers: {},
        approvals: { a: approval("a", 5, { status: "expired", reason: "completed" }) },
        tasks: {},
        conflicts: {},
      },
      agents: { bot: { status: "done", progress: 1, updatedAt: at(3) } },
      progress: 1,
      version: 9,
      completedAt: at(5),
      report: { ok: true },
      error: "none",
      origin: { session: "plain", version: 1, checkpoint: "cp1" },
      archive: "full.tar.gz",
    });
    await store.write({ events: [], sessions: [plain, full] });
    assert.deepEqual(await store.getSession("plain"), plain);
    assert.deepEqual(await store.getSession("full"), full);
    assert.equal(await store.getSession("missing"), undefined);
  });

  test("write() of the same batch twice changes nothing", async (store) => {
    const events = [
      event("s", 1, "created", { kind: "default" }),
      messageEvent("s", 2, "hello", "bot"),
      resultEvent("s", 3, { agent: "bot", key: "k", data: { v: 1 } }),
      checkpointEvent("s", 4),
    ];
    const batch = { events, sessions: [session("s", { version: 4 })] };
    await store.write(batch);
    const first = await snapshot(store, "s");
    await store.write(batch);
    await store.write({ events: [...events].reverse(), sessions: [] });
    assert.deepEqual(await snapshot(store, "s"), first);
    assert.equal(first.events.length, 4);
    assert.equal(await store.countMessages("s"), 1);
  });

  test("an encoded batch writes what its decoded form writes, and write() summarizes it", async (store) => {
    const events = [
      event("x", 1, "created", { kind: "default" }),
      messageEvent("x", 2, "hello", "bot"),
      resultEvent("x", 3, { agent: "bot", key: "k", data: { blob: "not a reference" } }),
      checkpointEvent("x", 4),
      event("y", 1, "created", { kind: "default" }),
    ];
    const x3 = session("x", { version: 3 });
    const x4 = session("x", { version: 4, status: "completed", completedAt: at(4) });
    const y = session("y", { version: 1 });
    const summary = await store.write({
      events: [events[0]],
      sessions: [x3],
      encoded: [
        JSON.stringify([{ events: events.slice(1, 3) }, { events: [events[3]], session: x4 }]),
        JSON.stringify([{ events: [events[4]], session: y }]),
      ].map((text) => new TextEncoder().encode(text)),
    });
    assert.equal(summary.events, 5);
    assert.deepEqual(
      summary.sessions.toSorted((a, b) => a.id.localeCompare(b.id)),
      [{ id: "x", status: "completed", version: 4 }, { id: "y", status: "active", version: 1 }],
    );
    assert.deepEqual(await store.getSession("x"), x4);
    assert.deepEqual(await store.getSession("y"), y);
    assert.deepEqual(await store.events("x"), events.slice(0, 4));
    assert.equal(await store.countMessages("x"), 1);
    assert.deepEqual((await store.results("x")).map((r) => r.data), [{ blob: "not a reference" }]);
    assert.equal((await store.checkpoints("x")).length, 1);
    assert.deepEqual(await store.write({ events: [], sessions: [], encoded: [] }), {
      events: 0,
      sessions: [],
    });
  });

  test("a session row with a lower version than the stored one is ignored", async (store) => {
    await store.write({
      events: [],
      sessions: [session("v", { version: 5, phase: "five", tags: ["new"] })],
    });
    await store.write({
      events: [],
      sessions: [session("v", { version: 3, phase: "three", tags: ["old"] })],
    });
    assert.equal((await store.getSession("v"))?.phase, "five");
    assert.equal((await store.listSessions({ tag: "old" })).items.length, 0);
    await store.write({
      events: [],
      sessions: [
        session("v", { version: 7, phase: "seven" }),
        session("v", { version: 6, phase: "six" }),
      ],
    });
    assert.equal((await store.getSession("v"))?.phase, "seven");
    assert.equal((await store.listSessions({ tag: "new" })).items.length, 0);
  });

  test("events() pages ascending after a seq and lastSeq() is the highest seq", async (store) => {
    assert.equal(await store.lastSeq("e"), 0);
    const events: SessionEvent[] = [];
    for (let seq = 1; seq <= 30; seq++) {
      events.push(event("e", seq, "patch", { i: seq }, seq % 2 ? "bot" : undefined));
    }
    events.push({ sessionId: "e", seq: 31, type: "noop", data: null, at: at(31) });
    await store.write({ events: events.toReversed(), sessions: [] });
    assert.deepEqual(await store.events("e"), events);
    assert.deepEqual(await store.events("e", { after: 10, limit: 5 }), events.slice(10, 15));
    assert.equal(await store.lastSeq("e"), 31);
    assert.deepEqual(await store.events("other"), []);
  });

  test("messages() pages backwards, returns ascending, and countMessages() counts", async (store) => {
    const events: SessionEvent[] = [event("m", 1, "created")];
    for (let seq = 2; seq <= 121; seq++) {
      events.push(messageEvent("m", seq, `text ${seq}`, seq % 3 ? undefined : "bot"));
    }
    await store.write({ events, sessions: [session("m")] });
    assert.equal(await store.countMessages("m"), 120);
    const last = await store.messages("m");
    assert.deepEqual(last.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => 72 + i));
    assert.deepEqual(last[49], {
      id: "m121",
      seq: 121,
      role: "user",
      content: "text 121",
      at: at(121),
    });
    assert.equal(last.find((m) => m.seq === 120)?.agent, "bot");
    const before = await store.messages("m", { before: 72, limit: 10 });
    assert.deepEqual(before.map((m) => m.seq), [62, 63, 64, 65, 66, 67, 68, 69, 70, 71]);
    assert.deepEqual((await store.messages("m", { before: 4 })).map((m) => m.seq), [2, 3]);
    assert.equal(await store.countMessages("none"), 0);
  });

  test("results() filters, and latest keeps the newest row per (agent, key)", async (store) => {
    await store.write({
      sessions: [session("r")],
      events: [
        resultEvent("r", 1, { agent: "a", key: "k", data: 1, partial: true }),
        resultEvent("r", 2, { agent: "b", key: "k", data: 2 }),
        resultEvent("r", 3, { agent: "a", key: "k", data: 3 }),
        resultEvent("r", 4, { key: "k", blob: "r/big" }),
        resultEvent("r", 5, { agent: "a", key: "other", data: { x: [1] } }),
        { ...resultEvent("r", 6, { key: "k", data: 6 }), agent: "b" },
      ],
    });
    const all = await store.results("r");
    assert.deepEqual(all.map((r) => r.seq), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(all[0], {
      seq: 1,
      agent: "a",
      key: "k",
      partial: true,
      data: 1,
      bytes: 10,
      at: at(1),
    });
    assert.deepEqual(all[3], {
      seq: 4,
      key: "k",
      partial: false,
      blob: "r/big",
      bytes: 10,
      at: at(4),
    });
    assert.equal(all[5].agent, "b");
    assert.deepEqual((await store.results("r", { latest: true })).map((r) => r.seq), [3, 4, 5, 6]);
    assert.deepEqual((await store.results("r", { agent: "a" })).map((r) => r.seq), [1, 3, 5]);
    assert.deepEqual((await store.results("r", { key: "k", latest: true })).map((r) => r.seq), [
      3,
      4,
      6,
    ]);
    assert.deepEqual((await store.results("r", { after: 4 })).map((r) => r.seq), [5, 6]);
    assert.deepEqual((await store.results("r", { limit: 2 })).map((r) => r.seq), [1, 2]);
  });

  test("checkpoints keep the newest 10 plus the newest final one, newest first", async (store) => {
    const events = [checkpointEvent("c", 1, true), checkpointEvent("c", 2, true)];
    for (let seq = 3; seq <= 14; seq++) events.push(checkpointEvent("c", seq));
    await store.write({ events: events.slice(0, 5), sessions: [session("c")] });
    await store.write({ events: events.slice(5), sessions: [] });
    const kept = await store.checkpoints("c");
    assert.deepEqual(kept.map((c) => c.seq), [14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 2]);
    assert.deepEqual(kept[0], {
      id: "cp14",
      seq: 14,
      version: 14,
      label: "at 14",
      final: false,
      state: { n: 14 },
      at: at(14),
    });
    assert.equal((await store.checkpoint("c", "cp2"))?.final, true);
    assert.equal(await store.checkpoint("c", "cp3"), undefined);
    await store.write({ events: [checkpointEvent("c", 3)], sessions: [] });
    assert.equal(
      await store.checkpoint("c", "cp3"),
      undefined,
      "a re-drained event is not re-materialized",
    );
    assert.equal((await store.checkpoints("c")).length, 11);
  });

  test("expiredCandidates() gives active or paused sessions past expiresAt", async (store) => {
    await store.write({
      events: [],
      sessions: [
        session("late", { expiresAt: at(10) }),
        session("paused", { status: "paused", expiresAt: at(20) }),
        session("fresh", { expiresAt: at(100) }),
        session("done", { status: "completed", expiresAt: at(1) }),
      ],
    });
    assert.deepEqual(await store.expiredCandidates(at(50), 10), ["late", "paused"]);
    assert.deepEqual(await store.expiredCandidates(at(50), 1), ["late"]);
  });

  test("deleteSession() removes every row and returns the referenced blob keys", async (store) => {
    await store.write({
      sessions: [session("gone", { name: "zebra" }), session("stays", { name: "zebra" })],
      events: [
        messageEvent("gone", 1, "giraffe"),
        resultEvent("gone", 2, { key: "k", blob: "gone/b1" }),
        resultEvent("gone", 3, { key: "k", blob: "gone/b1" }),
        resultEvent("gone", 4, { key: "j", blob: "gone/b2" }),
        checkpointEvent("gone", 5),
        messageEvent("stays", 1, "giraffe"),
      ],
    });
    assert.deepEqual((await store.deleteSession("gone")).sort(), ["gone/b1", "gone/b2"]);
    assert.deepEqual(await snapshot(store, "gone"), {
      session: undefined,
      events: [],
      messages: [],
      results: [],
      checkpoints: [],
    });
    assert.equal(await store.lastSeq("gone"), 0);
    assert.deepEqual((await store.listSessions({ q: "giraffe" })).items.map((s) => s.id), [
      "stays",
    ]);
    assert.deepEqual((await store.listSessions({ q: "zebra" })).items.map((s) => s.id), ["stays"]);
    assert.deepEqual(await store.deleteSession("gone"), []);
    assert.equal((await store.events("stays")).length, 1);
  });

  test("countSessions() counts by status", async (store) => {
    await store.write({
      events: [],
      sessions: [
        session("a"),
        session("b"),
        session("c", { status: "failed" }),
        session("d", { status: "completed" }),
      ],
    });
    assert.deepEqual(await store.countSessions(), { active: 2, failed: 1, completed: 1 });
  });

  let run = 0;
  test("any mix of batches with duplicates, in any order, stores exactly the distinct seqs", async (store) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), { maxLength: 8 }),
        async (batches) => {
          const id = `p${run++}`;
          for (const seqs of batches) {
            await store.write({
              events: seqs.map((seq) => messageEvent(id, seq, `m ${seq}`)),
              sessions: [],
            });
          }
          const expected = [...new Set(batches.flat())].sort((a, b) => a - b);
          assert.deepEqual((await store.events(id)).map((e) => e.seq), expected);
          assert.equal(await store.countMessages(id), expected.length);
          assert.equal(await store.lastSeq(id), expected.at(-1) ?? 0);
        },
      ),
      { numRuns: 40 },
    );
  });

  registerListConformance(test);
  registerApprovalConformance(test);
  if (options.openEmpty) registerMigrationConformance(name, options.openEmpty, options);
}
