/**
 * One conformance suite for every {@linkcode HotTier}: what the actor, the
 * group committer, the drainer and the scheduler rely on, through the
 * interface alone.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { iso } from "../../src/clock.ts";
import type { Coordination, RecordType, Timer } from "../../src/coordination/model.ts";
import { emptyCoordination } from "../../src/coordination/model.ts";
import { CommandMemory } from "../../src/hot/command_memory.ts";
import { headOf, type UnitRecords, type UnitTurn } from "../../src/hot/commit_unit.ts";
import { dueKeyOf, type HotTier } from "../../src/hot/hot_tier.ts";
import type { HotSession } from "../../src/hot/layout.ts";
import type { SessionEvent } from "../../src/session.ts";

/** A hot tier to test, and how to let go of it. */
export interface OpenedTier {
  hot: HotTier;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);

/** What one turn does, in plain data. */
interface Step {
  /** The state after the turn; the log gets one `replace /` op. */
  state?: Record<string, unknown>;
  /** Timers the turn schedules (`due` in ms) or removes (`due: null`). */
  timers?: { id: string; due: number | null }[];
  /** Extra event payloads, each its own event. */
  events?: unknown[];
  terminal?: boolean;
  now?: number;
}

/** Records of a turn over `base`, with `changes` applied. */
function records(
  base: Coordination,
  changes: { type: RecordType; id: string; value: Timer | null }[],
): UnitRecords {
  const result = (): Coordination => {
    const out = structuredClone(base);
    for (const c of changes) {
      if (c.value === null) delete out[c.type][c.id];
      else (out[c.type] as Record<string, unknown>)[c.id] = c.value;
    }
    return out;
  };
  return {
    changed: changes.length > 0,
    total: () => Object.values(result()).reduce((n, rs) => n + Object.keys(rs).length, 0),
    changes: () => changes,
    result,
    get: (type, id) => {
      const c = changes.findLast((c) => c.type === type && c.id === id);
      if (c) return c.value ?? undefined;
      return Object.hasOwn(base[type], id) ? base[type][id] : undefined;
    },
  };
}

/** A turn over `base` (undefined: a new session `id`) doing `step`. */
export function turnOf(id: string, base: HotSession | undefined, step: Step): UnitTurn {
  const now = step.now ?? T0;
  let head = base?.head ?? headOf(id, now);
  const state = step.state ?? base?.state ?? {};
  const events: SessionEvent[] = [];
  const log: string[] = [];
  const emit = (type: string, data: unknown) => {
    const seq = head.version + 1;
    events.push({ sessionId: id, seq, type, data, at: iso(now) });
    head = { ...head, version: seq, updatedAt: iso(now) };
    return seq;
  };
  if (!base) emit("created", { kind: "default" });
  if (step.state) {
    const seq = emit("patch", { ops: [{ op: "replace", path: "", value: state }] });
    log.push(JSON.stringify([seq, [{ op: "replace", path: "", value: state }]]));
  }
  for (const data of step.events ?? []) emit("note", data);
  const changes = (step.timers ?? []).map((t) => ({
    type: "timers" as const,
    id: t.id,
    value: t.due === null ? null : { id: t.id, due: iso(t.due), createdAt: iso(now) },
  }));
  if (changes.length > 0) emit("timers", { changes: changes.length });
  if (step.terminal) head = { ...head, status: "completed" };
  return {
    id,
    now,
    head,
    state,
    log,
    events,
    eventJson: (i) => JSON.stringify(events[i]),
    terminal: step.terminal ?? false,
    snapshot: false,
    report: undefined,
    coord: records(base?.coord ?? emptyCoordination(), changes),
    stale: [],
  };
}

/** Builds and writes one turn over the session as loaded; returns the write's result. */
async function commitStep(hot: HotTier, id: string, step: Step) {
  const base = await hot.load(id);
  const built = await hot.buildUnit(base, turnOf(id, base, step), [], undefined);
  return { built, result: await hot.write([built.unit]) };
}

/** Every outbox value, in commit order. */
async function allOutbox(hot: HotTier) {
  return await hot.readOutbox({ limit: 10_000 });
}

/** Registers the suite under `name`; `open` must give a fresh, empty tier. */
export function hotTierConformance(name: string, open: () => Promise<OpenedTier>): void {
  const test = (title: string, fn: (hot: HotTier) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const opened = await open();
      try {
        await fn(opened.hot);
      } finally {
        await opened.close();
      }
    });

  test("a session it never saw loads as undefined, with no head", async (hot) => {
    assert.equal(await hot.load("nobody"), undefined);
    assert.equal(await hot.headVersionstamp("nobody"), null);
    await hot.ping();
  });

  test("a written unit loads back: head, state and records, under the write's versionstamp", async (hot) => {
    const { result } = await commitStep(hot, "s1", {
      state: { n: 1 },
      timers: [{ id: "t1", due: T0 + 60_000 }],
    });
    assert.ok(result.ok);
    const loaded = await hot.load("s1");
    assert.ok(loaded);
    assert.deepEqual(loaded.state, { n: 1 });
    assert.equal(loaded.head.version, 3);
    assert.equal(loaded.coord.timers.t1.due, iso(T0 + 60_000));
    assert.equal(loaded.versionstamp, result.versionstamp);
    assert.equal(await hot.headVersionstamp("s1"), result.versionstamp);
  });

  test("a unit built over a stale head loses its check and writes nothing", async (hot) => {
    await commitStep(hot, "s1", { state: { n: 1 } });
    const stale = await hot.load("s1");
    await commitStep(hot, "s1", { state: { n: 2 } });
    const outboxBefore = (await allOutbox(hot)).length;
    const built = await hot.buildUnit(
      stale,
      turnOf("s1", stale, { state: { n: 99 } }),
      [],
      undefined,
    );
    assert.deepEqual(await hot.write([built.unit]), { ok: false });
    await built.discard();
    assert.deepEqual((await hot.load("s1"))?.state, { n: 2 });
    assert.equal((await allOutbox(hot)).length, outboxBefore, "no outbox value either");
  });

  test("many turns load back as the last state, through the tail, log entries and snapshots", async (hot) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.dictionary(
            fc.string({ maxLength: 6 }),
            fc.oneof(fc.integer(), fc.string({ maxLength: 400 })),
            {
              maxKeys: 8,
            },
          ),
          { minLength: 1, maxLength: 60 },
        ),
        async (states) => {
          const id = `p${crypto.randomUUID()}`;
          for (const state of states) {
            const { result } = await commitStep(hot, id, { state });
            assert.ok(result.ok);
          }
          const loaded = await hot.load(id);
          assert.deepEqual(loaded?.state, JSON.parse(JSON.stringify(states[states.length - 1])));
          assert.equal(loaded?.head.version, states.length + 1);
        },
      ),
      { numRuns: 15 },
    );
  });

  test("the outbox holds each write's events in commit order, read after a key and up to a bound", async (hot) => {
    const first = await commitStep(hot, "a", { state: { n: 1 } });
    const second = await commitStep(hot, "b", { state: { n: 2 } });
    assert.ok(first.result.ok && second.result.ok);
    const bound = hot.outboxBound();
    await commitStep(hot, "a", { state: { n: 3 } });

    const all = await allOutbox(hot);
    assert.equal(all.length, 3);
    assert.deepEqual(all[0].key, first.result.outbox[0].key);
    assert.deepEqual(all[0].value, first.result.outbox[0].value);
    const sessions = [];
    for (const v of all) {
      const { entries, spilled } = await hot.outboxEntries(v.value);
      assert.deepEqual(spilled, []);
      sessions.push(entries[0].events[0].sessionId);
    }
    assert.deepEqual(sessions, ["a", "b", "a"]);
    assert.equal((await hot.readOutbox({ upTo: bound, limit: 100 })).length, 2);
    const rest = await hot.readOutbox({ after: all[0].key, limit: 1 });
    assert.deepEqual(rest.map((v) => v.key), [all[1].key]);
    assert.deepEqual(
      (await hot.outboxEvents("a", 1, 100)).map((e) => e.seq),
      [2, 3],
      "session a's events after seq 1, from both of its writes",
    );

    await hot.deleteKeys(all.slice(0, 2).map((v) => v.key));
    assert.deepEqual((await allOutbox(hot)).map((v) => v.key), [all[2].key]);
  });

  test("an event over one value is spilled, read back, and its blob dropped", async (hot) => {
    const big = "x".repeat(70_000);
    const { result } = await commitStep(hot, "s1", { events: [{ big }] });
    assert.ok(result.ok);
    const [value] = await allOutbox(hot);
    assert.equal(hot.mayHoldSpilled(value.value), true);
    const { entries, spilled } = await hot.outboxEntries(value.value);
    assert.equal(spilled.length, 1);
    const note = entries.flatMap((e) => e.events).find((e) => e.type === "note");
    assert.ok(note?.data !== undefined && (note.data as { big: string }).big === big);
    await hot.dropSpilled(spilled);
    await assert.rejects(hot.outboxEntries(value.value), /missing/);
    const small = await commitStep(hot, "s2", { state: { n: 1 } });
    assert.ok(small.result.ok);
    assert.equal(hot.mayHoldSpilled(small.result.outbox[0].value), false);
  });

  test("the due index holds an active session's timers by due time, and forgets them", async (hot) => {
    assert.equal(await hot.nextDue(), undefined);
    await commitStep(hot, "s1", {
      state: { n: 1 },
      timers: [{ id: "late", due: T0 + 120_000 }, { id: "soon", due: T0 + 60_000 }],
    });
    assert.equal(await hot.nextDue(), T0 + 60_000);
    const due = async (until: number) => {
      const out = [];
      for await (const key of hot.due(until)) out.push(dueKeyOf(key));
      return out;
    };
    assert.deepEqual(await due(T0 + 59_999), []);
    assert.deepEqual(await due(T0 + 60_000), [
      { due: T0 + 60_000, session: "s1", type: "timers", id: "soon" },
    ]);
    assert.deepEqual((await due(T0 + 200_000)).map((k) => k.id), ["soon", "late"]);
    assert.deepEqual(await hot.countDue(100), { timers: 2, approvals: 0, tasks: 0, conflicts: 0 });

    // A turn that removes a timer takes its key off the index in the same write.
    await commitStep(hot, "s1", { timers: [{ id: "late", due: null }] });
    assert.deepEqual((await due(T0 + 200_000)).map((k) => k.id), ["soon"]);
    for await (const key of hot.due(T0 + 200_000)) await hot.deleteDue(key);
    assert.equal(await hot.nextDue(), undefined);

    // A session that ends takes every key it had off the index.
    await commitStep(hot, "s2", { timers: [{ id: "t", due: T0 + 5_000 }] });
    assert.equal(await hot.nextDue(), T0 + 5_000);
    await commitStep(hot, "s2", { terminal: true });
    assert.equal(await hot.nextDue(), undefined);
  });

  test("a session is deleted only under its versionstamp, with its keys on the due index", async (hot) => {
    await commitStep(hot, "s1", { state: { n: 1 }, timers: [{ id: "t", due: T0 + 5_000 }] });
    const loaded = await hot.load("s1");
    assert.ok(loaded);
    await commitStep(hot, "s1", { state: { n: 2 } });
    assert.equal(await hot.deleteSession("s1", { versionstamp: loaded.versionstamp }), false);
    assert.deepEqual((await hot.load("s1"))?.state, { n: 2 });

    const now = await hot.load("s1");
    assert.equal(
      await hot.deleteSession("s1", { versionstamp: now!.versionstamp, loaded: now }),
      true,
    );
    assert.equal(await hot.load("s1"), undefined);
    assert.equal(await hot.nextDue(), undefined);
    assert.ok((await allOutbox(hot)).length > 0, "its outbox values are the drainer's");
  });

  test("a head watch sees each write's versionstamp until it is stopped", async (hot) => {
    const seen: (string | null)[] = [];
    let wake = () => {};
    const stop = hot.watchHead("s1", (vs) => {
      seen.push(vs);
      wake();
    });
    try {
      const next = () => new Promise<void>((resolve) => wake = resolve);
      await new Promise((r) => setTimeout(r, 20)); // the watch's first value: no head yet
      const waiting = next();
      const { result } = await commitStep(hot, "s1", { state: { n: 1 } });
      await waiting;
      assert.ok(result.ok);
      assert.equal(seen.at(-1), result.versionstamp);
    } finally {
      stop();
    }
    const count = seen.length;
    await commitStep(hot, "s1", { state: { n: 2 } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, count, "nothing after stop");
  });

  test("command ids written with a unit are remembered after a reload", async (hot) => {
    const base = undefined;
    const turn = turnOf("s1", base, { state: { n: 1 } });
    const memory = await hot.commandMemory("s1", undefined);
    const record = CommandMemory.record("cmd-1", 0, turn.head.version, { ok: 1 }, 1);
    const withCmds = { ...turn, head: { ...turn.head, cmds: 1 } };
    const built = await hot.buildUnit(base, withCmds, [record], memory);
    assert.ok((await hot.write([built.unit])).ok);
    const loaded = await hot.load("s1");
    const reloaded = await hot.commandMemory("s1", loaded?.head);
    assert.deepEqual(reloaded.get("cmd-1")?.result, { ok: 1 });
    assert.equal(reloaded.get("cmd-2"), undefined);
  });

  test("units of many sessions and unchecked deletes go in one atomic", async (hot) => {
    const a = await hot.buildUnit(
      undefined,
      turnOf("a", undefined, { state: { n: 1 } }),
      [],
      undefined,
    );
    const b = await hot.buildUnit(
      undefined,
      turnOf("b", undefined, { state: { n: 2 } }),
      [],
      undefined,
    );
    const result = await hot.write([a.unit, b.unit]);
    assert.ok(result.ok);
    assert.equal((await hot.load("a"))?.versionstamp, result.versionstamp);
    assert.equal((await hot.load("b"))?.versionstamp, result.versionstamp);
    const [value] = await allOutbox(hot);
    const c = await hot.buildUnit(undefined, turnOf("c", undefined, { state: {} }), [], undefined);
    assert.ok((await hot.write([c.unit], [value.key])).ok);
    assert.equal(
      (await allOutbox(hot)).some((v) => v.key.join() === value.key.join()),
      false,
      "the delete rode the atomic",
    );
  });
}
