/**
 * The listing, search and retention half of the history conformance suite.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ValidationError } from "../../src/errors.ts";
import type { HistoryStore, ListQuery } from "../../src/history/history_store.ts";
import { at, type harness, messageEvent, session } from "./_fixtures.ts";

type Register = ReturnType<typeof harness>;

async function ids(store: HistoryStore, query: ListQuery): Promise<string[]> {
  return (await store.listSessions(query)).items.map((s) => s.id);
}

async function seedSearch(store: HistoryStore): Promise<void> {
  await store.write({
    sessions: [
      session("alpha", { name: "Quarterly ACME research", updatedAt: at(5) }),
      session("beta", { tags: ["urgent", "finance-team"], updatedAt: at(4) }),
      session("gamma", {
        meta: { owner: "Zoë Ångström", nested: { city: "Tokyo 東京" } },
        updatedAt: at(3),
      }),
      session("delta", { name: "café notes 日本語", updatedAt: at(2) }),
      session("eps", { name: "plain", updatedAt: at(1) }),
    ],
    events: [
      messageEvent("eps", 1, "The merger with Globex closes in March."),
      messageEvent("eps", 2, "Ask about example.com pricing"),
    ],
  });
}

/** Registers the listing, full-text and retention tests. */
export function registerListConformance(test: Register): void {
  registerCoordinationFilters(test);

  test("listSessions() orders by updatedAt desc then id desc, without state", async (store) => {
    await store.write({
      events: [],
      sessions: [
        session("a", { updatedAt: at(1) }),
        session("b", { updatedAt: at(2), status: "completed", state: { big: true } }),
        session("c", { updatedAt: at(2) }),
        session("d", { updatedAt: at(0) }),
      ],
    });
    const page = await store.listSessions({});
    assert.deepEqual(page.items.map((s) => s.id), ["c", "b", "a", "d"]);
    assert.equal(page.nextCursor, undefined);
    assert.ok(page.items.every((s) => !("state" in s)));
  });

  test("listSessions() applies every filter", async (store) => {
    await store.write({
      events: [],
      sessions: [
        session("s1", {
          kind: "research",
          tags: ["x", "y"],
          createdAt: at(1),
          agents: { bot: agent() },
        }),
        session("s2", { kind: "research", status: "paused", tags: ["y"], createdAt: at(2) }),
        session("s3", {
          kind: "code",
          status: "completed",
          createdAt: at(3),
          agents: { bot: agent(), ann: agent() },
        }),
        session("s4", { kind: "code", tags: ["x"], createdAt: at(4) }),
      ],
    });
    const sorted = async (q: ListQuery) => (await ids(store, q)).sort();
    assert.deepEqual(await sorted({ status: "active" }), ["s1", "s4"]);
    assert.deepEqual(await sorted({ kind: "research" }), ["s1", "s2"]);
    assert.deepEqual(await sorted({ tag: "x" }), ["s1", "s4"]);
    assert.deepEqual(await sorted({ tag: "nope" }), []);
    assert.deepEqual(await sorted({ agent: "bot" }), ["s1", "s3"]);
    assert.deepEqual(await sorted({ agent: "ann" }), ["s3"]);
    assert.deepEqual(await sorted({ createdAfter: at(2) }), ["s3", "s4"]);
    assert.deepEqual(await sorted({ createdBefore: at(2) }), ["s1"]);
    assert.deepEqual(await sorted({ createdAfter: at(1), createdBefore: at(4) }), ["s2", "s3"]);
    assert.deepEqual(await sorted({ kind: "code", tag: "x", status: "active" }), ["s4"]);
  });

  test("listSessions() rejects a limit over 500 or under 1, and a forged cursor, with 400", async (store) => {
    await assert.rejects(store.listSessions({ limit: 501 }), ValidationError);
    await assert.rejects(store.listSessions({ limit: 0 }), ValidationError);
    await assert.rejects(store.listSessions({ limit: 2.5 }), ValidationError);
    await assert.rejects(store.listSessions({ cursor: "not a cursor" }), ValidationError);
    await assert.rejects(store.listSessions({ cursor: btoa("[1,2]") }), ValidationError);
    assert.deepEqual((await store.listSessions({ limit: 500 })).items, []);
  });

  test("the cursor pages through every session once while newer sessions are created", async (store) => {
    const original = Array.from(
      { length: 30 },
      (_, i) =>
        session(`o${String(i).padStart(2, "0")}`, {
          updatedAt: at(Math.floor(i / 3)),
        }),
    );
    await store.write({ events: [], sessions: original });
    const seen: string[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const page = await store.listSessions({ limit: 7, cursor });
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
      await store.write({
        events: [],
        sessions: [session(`new${round++}`, { updatedAt: at(100 + round) })],
      });
    } while (cursor);
    const expected = original.toSorted((a, b) =>
      b.updatedAt.localeCompare(a.updatedAt) || (a.id < b.id ? 1 : -1)
    ).map((s) => s.id);
    assert.deepEqual(seen, expected);
  });

  test("full text finds words in name, tags, meta values and message contents", async (store) => {
    await seedSearch(store);
    assert.deepEqual(await ids(store, { q: "acme" }), ["alpha"]);
    assert.deepEqual(await ids(store, { q: "quarterly research" }), ["alpha"]);
    assert.deepEqual(await ids(store, { q: "urgent" }), ["beta"]);
    assert.deepEqual(await ids(store, { q: "finance" }), ["beta"]);
    assert.deepEqual(await ids(store, { q: "tokyo" }), ["gamma"]);
    assert.deepEqual(await ids(store, { q: "globex merger" }), ["eps"]);
    assert.deepEqual(await ids(store, { q: "example" }), ["eps"]);
    assert.deepEqual(await ids(store, { q: "GLOBEX" }), ["eps"]);
    assert.deepEqual(await ids(store, { q: "acme globex" }), [], "every word must match");
    assert.deepEqual(await ids(store, { q: "glob" }), [], "words of messages match whole");
    assert.deepEqual(await ids(store, { q: "research", kind: "other" }), []);
  });

  test("full text matches unicode words", async (store) => {
    await seedSearch(store);
    assert.deepEqual(await ids(store, { q: "café" }), ["delta"]);
    assert.deepEqual(await ids(store, { q: "日本語" }), ["delta"]);
    assert.deepEqual(await ids(store, { q: "東京" }), ["gamma"]);
    assert.deepEqual(await ids(store, { q: "zoë" }), ["gamma"]);
  });

  test("hostile search input never raises a SQL or FTS error", async (store) => {
    await seedSearch(store);
    const hostile = [
      `"`,
      `""`,
      `*`,
      `OR`,
      `acme OR`,
      `AND NOT`,
      `(`,
      `)(`,
      `NEAR/`,
      `NEAR(acme research, 2)`,
      `acme*`,
      `'`,
      `'; DROP TABLE sessions; --`,
      `name:acme`,
      `^acme`,
      `-acme`,
      `acme & | ! :*`,
      `\\`,
      `\u0000`,
      `💥🔥`,
      `e\u0301`,
      `a`.repeat(5000),
      Array.from({ length: 100 }, (_, i) => `w${i}`).join(" "),
      `{col1 col2}: x`,
      `"unterminated`,
      `<->`,
    ];
    for (const q of hostile) {
      const page = await store.listSessions({ q });
      assert.ok(Array.isArray(page.items), q);
    }
    assert.deepEqual(await ids(store, { q: `"acme"` }), ["alpha"]);
    assert.deepEqual(await ids(store, { q: `acme*` }), ["alpha"]);
    assert.deepEqual(
      await ids(store, { q: `NEAR(acme research, 2)` }),
      [],
      "near is a word, not an operator",
    );
    assert.deepEqual(await ids(store, { q: `(acme OR` }), []);
    assert.equal(
      (await store.listSessions({ q: `*` })).items.length,
      5,
      "no searchable word: no text filter",
    );
  });

  test("full text matches the words of names, ids, tags and meta by prefix", async (store) => {
    await seedSearch(store);
    await store.write({
      events: [],
      sessions: [session("acme-7Q", { name: "Other work" }), session("zz", { name: "acmeish" })],
    });
    const sorted = async (q: string) => (await ids(store, { q })).sort();
    assert.deepEqual(await sorted("acm"), ["acme-7Q", "alpha", "zz"]);
    assert.deepEqual(await sorted("ACME"), ["acme-7Q", "alpha", "zz"]);
    assert.deepEqual(await sorted("acme-7"), ["acme-7Q"], "an id's words, each a prefix");
    assert.deepEqual(await sorted("acme 7q"), ["acme-7Q"]);
    assert.deepEqual(await sorted("quart res"), ["alpha"], "every word is a prefix");
    assert.deepEqual(await sorted("fin"), ["beta"]);
    assert.deepEqual(await sorted("tok"), ["gamma"]);
    assert.deepEqual(await sorted("gam"), ["gamma"], "the id");
    assert.deepEqual(await sorted("caf"), ["delta"]);
    assert.deepEqual(await sorted("acmex"), []);
    assert.deepEqual(await sorted("cme"), [], "a prefix, not any part");
  });

  test("full text finds the searchable state text a record carries", async (store) => {
    await store.write({
      events: [],
      sessions: [
        session("st", { name: "plain", searchText: "Hypothesis: tariffs lower imports" }),
        session("other", { name: "plain" }),
      ],
    });
    assert.deepEqual(await ids(store, { q: "tariffs" }), ["st"]);
    assert.deepEqual(await ids(store, { q: "hypo" }), ["st"]);
    assert.equal((await store.getSession("st"))?.searchText, undefined, "indexed, not stored");
  });

  test("the full-text index follows upserts and deletes", async (store) => {
    await store.write({ events: [], sessions: [session("f", { name: "walrus", version: 1 })] });
    assert.deepEqual(await ids(store, { q: "walrus" }), ["f"]);
    await store.write({ events: [], sessions: [session("f", { name: "narwhal", version: 2 })] });
    assert.deepEqual(await ids(store, { q: "walrus" }), []);
    assert.deepEqual(await ids(store, { q: "narwhal" }), ["f"]);
    await store.write({ events: [], sessions: [session("f", { name: "walrus", version: 1 })] });
    assert.deepEqual(
      await ids(store, { q: "narwhal" }),
      ["f"],
      "an ignored stale row is not indexed",
    );
    await store.deleteSession("f");
    assert.deepEqual(await ids(store, { q: "narwhal" }), []);
  });

  test("full text pages with the cursor", async (store) => {
    const many = Array.from(
      { length: 12 },
      (_, i) => session(`k${i}`, { name: "kiwi", updatedAt: at(i) }),
    );
    await store.write({ events: [], sessions: many });
    const first = await store.listSessions({ q: "kiwi", limit: 5 });
    const second = await store.listSessions({ q: "kiwi", limit: 5, cursor: first.nextCursor });
    const third = await store.listSessions({ q: "kiwi", limit: 5, cursor: second.nextCursor });
    assert.deepEqual(
      [...first.items, ...second.items, ...third.items].map((s) => s.id),
      many.map((s) => s.id).reverse(),
    );
    assert.equal(third.nextCursor, undefined);
  });

  test("cleanupCandidates() selects old terminal sessions but keeps the K newest completed", async (store) => {
    const day = 24 * 60;
    await store.write({
      events: [],
      sessions: [
        session("c-old1", { status: "completed", updatedAt: at(0) }),
        session("c-old2", { status: "completed", updatedAt: at(1) }),
        session("c-old3", { status: "completed", updatedAt: at(2) }),
        session("c-new", { status: "completed", updatedAt: at(40 * day) }),
        session("f-old", { status: "failed", updatedAt: at(3) }),
        session("f-new", { status: "failed", updatedAt: at(40 * day) }),
        session("x-old", { status: "expired", updatedAt: at(4) }),
        session("a-old", { status: "active", updatedAt: at(5) }),
        session("p-old", { status: "paused", updatedAt: at(6) }),
        session("arch", { status: "archived", updatedAt: at(7) }),
      ],
    });
    const now = at(41 * day);
    const rules = { now, olderThanDays: 30, keepCompleted: 2 };
    assert.deepEqual(await store.cleanupCandidates(rules), ["c-old1", "c-old2", "f-old", "x-old"]);
    assert.deepEqual(await store.cleanupCandidates({ ...rules, keepCompleted: 0 }), [
      "c-old1",
      "c-old2",
      "c-old3",
      "f-old",
      "x-old",
    ]);
    assert.deepEqual(await store.cleanupCandidates({ ...rules, failed: true }), [
      "c-old1",
      "c-old2",
      "f-old",
      "x-old",
      "f-new",
    ]);
    assert.deepEqual(
      await store.cleanupCandidates({ now }),
      ["f-old", "x-old"],
      "30 days and 10 completed kept by default",
    );
    assert.deepEqual(await store.cleanupCandidates({ ...rules, olderThanDays: 50 }), []);
    await assert.rejects(store.cleanupCandidates({ now: "yesterday" }), ValidationError);
  });
}

function agent() {
  return { status: "working", progress: 0.5, updatedAt: at(0) };
}

/** The `waiting`, `conflicts` and `count` options of a listing. */
function registerCoordinationFilters(test: Register): void {
  const seed = (store: HistoryStore) =>
    store.write({
      events: [],
      sessions: [
        session("w1", { pendingApprovals: 2, updatedAt: at(1), tags: ["t"] }),
        session("w2", {
          pendingApprovals: 1,
          openConflicts: 1,
          status: "paused",
          updatedAt: at(2),
        }),
        session("c1", { openConflicts: 3, updatedAt: at(3), tags: ["t"] }),
        session("n1", { updatedAt: at(4), tags: ["t"] }),
        session("d1", { status: "completed", updatedAt: at(5), tags: ["t"] }),
        session("d2", { status: "failed", updatedAt: at(6), openConflicts: 1 }),
      ],
    });

  test("listSessions() filters waiting=approval and conflicts=open", async (store) => {
    await seed(store);
    assert.deepEqual(await ids(store, { waiting: "approval" }), ["w2", "w1"]);
    assert.deepEqual(await ids(store, { conflicts: "open" }), ["d2", "c1", "w2"]);
    assert.deepEqual(await ids(store, { waiting: "approval", conflicts: "open" }), ["w2"]);
    assert.deepEqual(await ids(store, { waiting: "approval", status: "active" }), ["w1"]);
    assert.deepEqual(await ids(store, { waiting: "approval", tag: "t" }), ["w1"]);
    const first = await store.listSessions({ conflicts: "open", limit: 2 });
    assert.deepEqual(first.items.map((s) => s.id), ["d2", "c1"]);
    assert.deepEqual(await ids(store, { conflicts: "open", cursor: first.nextCursor }), ["w2"]);
    await store.write({ events: [], sessions: [session("w1", { version: 2, updatedAt: at(7) })] });
    assert.deepEqual(
      await ids(store, { waiting: "approval" }),
      ["w2"],
      "the count follows upserts",
    );
    assert.equal((await store.getSession("w2"))?.pendingApprovals, 1);
    assert.equal((await store.getSession("w2"))?.openConflicts, 1);
  });

  test("count=true totals the sessions of the other filters by status, whatever the status filter and cursor", async (store) => {
    await seed(store);
    const none = { active: 0, paused: 0, completed: 0, failed: 0, expired: 0, archived: 0 };
    const all = await store.listSessions({ count: true, limit: 2 });
    assert.deepEqual(all.total, { ...none, active: 3, paused: 1, completed: 1, failed: 1 });
    const next = await store.listSessions({ count: true, limit: 2, cursor: all.nextCursor });
    assert.deepEqual(next.total, all.total);
    assert.deepEqual(
      (await store.listSessions({ count: true, status: "completed", tag: "t" })).total,
      { ...none, active: 3, completed: 1 },
    );
    assert.deepEqual(
      (await store.listSessions({ count: true, conflicts: "open" })).total,
      { ...none, active: 1, paused: 1, failed: 1 },
    );
    assert.deepEqual(
      (await store.listSessions({ count: true, q: "nothing matches this" })).total,
      none,
    );
    assert.equal((await store.listSessions({})).total, undefined);
  });
}
