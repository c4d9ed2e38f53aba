/**
 * The approvals half of the history conformance suite: the inbox
 * materialized from `approval.*` events.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ValidationError } from "../../src/errors.ts";
import type { ApprovalQuery, HistoryStore } from "../../src/history/history_store.ts";
import { approval, approvalEvent, at, event, type harness, session } from "./_fixtures.ts";

type Register = ReturnType<typeof harness>;

/** `session/id` of every approval of the inbox, following the cursor to the end. */
async function inbox(store: HistoryStore, query: ApprovalQuery): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.approvals({ ...query, cursor });
    pages.push(page.items.map((a) => `${a.session}/${a.id}`));
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

/** Registers the approvals tests. */
export function registerApprovalConformance(test: Register): void {
  test("approvals() lists across sessions, oldest deadline first, then by session and id, and pages", async (store) => {
    await store.write({
      sessions: [session("s1"), session("s2"), session("s3")],
      events: [
        approvalEvent("s1", 2, approval("a", 30)),
        approvalEvent("s1", 3, approval("b", 10)),
        approvalEvent("s2", 2, approval("a", 10)),
        approvalEvent("s2", 3, approval("c", 20)),
        approvalEvent("s3", 2, approval("z", 5)),
        approvalEvent("s3", 3, approval("y", 10)),
        approvalEvent("s3", 4, approval("x", 10)),
      ],
    });
    const order = ["s3/z", "s1/b", "s2/a", "s3/x", "s3/y", "s2/c", "s1/a"];
    assert.deepEqual(await inbox(store, {}), [order]);
    assert.deepEqual(await inbox(store, { status: "pending", limit: 3 }), [
      order.slice(0, 3),
      order.slice(3, 6),
      order.slice(6),
    ]);
    assert.deepEqual(await inbox(store, { session: "s3", limit: 2 }), [["s3/z", "s3/x"], [
      "s3/y",
    ]]);
    assert.deepEqual(await inbox(store, { session: "none" }), [[]]);
    const [first] = (await store.approvals({ limit: 1 })).items;
    assert.deepEqual(first, { ...approval("z", 5), session: "s3" });
  });

  test("a decided or an expired approval leaves the pending inbox", async (store) => {
    const decided = approval("d", 1, {
      status: "decided",
      option: "approve",
      by: "ann",
      comment: "ok",
      decidedAt: at(1),
    });
    const expired = approval("e", 2, { status: "expired", reason: "deadline", decidedAt: at(2) });
    await store.write({
      sessions: [session("s")],
      events: [
        approvalEvent("s", 2, approval("d", 1)),
        approvalEvent("s", 3, approval("e", 2)),
        approvalEvent("s", 4, approval("p", 3)),
      ],
    });
    assert.deepEqual(await inbox(store, { status: "pending" }), [["s/d", "s/e", "s/p"]]);
    await store.write({
      sessions: [],
      events: [approvalEvent("s", 5, decided), approvalEvent("s", 6, expired)],
    });
    assert.deepEqual(await inbox(store, { status: "pending" }), [["s/p"]]);
    assert.deepEqual((await store.approvals({ status: "decided" })).items, [
      { ...decided, session: "s" },
    ]);
    assert.deepEqual((await store.approvals({ status: "expired" })).items, [
      { ...expired, session: "s" },
    ]);
  });

  test("write() of the same approval events twice, or in reverse, changes nothing", async (store) => {
    const events = [
      event("s", 1, "created", { kind: "default" }),
      approvalEvent("s", 2, approval("a", 10)),
      approvalEvent("s", 3, approval("b", 20)),
      approvalEvent("s", 4, approval("a", 10, { status: "decided", option: "reject" })),
    ];
    const batch = { events, sessions: [session("s", { version: 4, pendingApprovals: 1 })] };
    await store.write(batch);
    const first = (await store.approvals({})).items;
    await store.write(batch);
    await store.write({ events: events.toReversed(), sessions: [] });
    assert.deepEqual((await store.approvals({})).items, first);
    assert.deepEqual(first.map((a) => [a.id, a.status]), [["a", "decided"], ["b", "pending"]]);
  });

  test("an older approval event never overwrites the row of a newer one", async (store) => {
    const pending = approval("a", 10);
    const decided = approval("a", 10, { status: "decided", option: "approve", by: "ann" });
    await store.write({ sessions: [session("s")], events: [approvalEvent("s", 5, decided)] });
    await store.write({ sessions: [], events: [approvalEvent("s", 3, pending)] });
    assert.deepEqual((await store.approvals({})).items, [{ ...decided, session: "s" }]);
    assert.deepEqual((await store.approvals({ status: "pending" })).items, []);

    const expired = approval("b", 10, { status: "expired", reason: "deadline" });
    await store.write({
      sessions: [],
      events: [approvalEvent("s", 9, expired), approvalEvent("s", 7, approval("b", 10))],
    });
    assert.deepEqual(
      (await store.approvals({ session: "s" })).items.map((a) => [a.id, a.status]),
      [["a", "decided"], ["b", "expired"]],
      "in one batch too",
    );
  });

  test("approvals() rejects a limit over 500 or under 1, and a forged cursor, with 400", async (store) => {
    await assert.rejects(store.approvals({ limit: 501 }), ValidationError);
    await assert.rejects(store.approvals({ limit: 0 }), ValidationError);
    await assert.rejects(store.approvals({ cursor: "not a cursor" }), ValidationError);
    const listCursor = btoa(JSON.stringify([at(0), "s"]));
    await assert.rejects(store.approvals({ cursor: listCursor }), ValidationError);
    assert.deepEqual(await store.approvals({ limit: 500 }), { items: [] });
  });

  test("deleteSession() removes the session's approvals and no other's", async (store) => {
    await store.write({
      sessions: [session("gone"), session("stays")],
      events: [
        approvalEvent("gone", 2, approval("a", 1)),
        approvalEvent("gone", 3, approval("b", 2)),
        approvalEvent("stays", 2, approval("a", 3)),
      ],
    });
    await store.deleteSession("gone");
    assert.deepEqual(await inbox(store, {}), [["stays/a"]]);
    assert.deepEqual(await inbox(store, { session: "gone" }), [[]]);
  });
}
