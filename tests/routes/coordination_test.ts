import assert from "node:assert/strict";
import { ManualClock, type Runtime } from "../../mod.ts";
import { bearer, call, withRuntime } from "./_fixtures.ts";

const clock = () => new ManualClock(Date.UTC(2026, 0, 1));
const MINUTE = 60_000;

async function create(rt: Runtime, id: string, headers?: Record<string, string>): Promise<void> {
  const res = await call(rt, "POST", "/v1/sessions", { body: { id }, headers });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** The answer's status, failing with its body when it is not `status`. */
function expect(res: { status: number; body: unknown }, status: number, what = ""): void {
  assert.equal(res.status, status, `${what} ${JSON.stringify(res.body)}`);
}

const findings = [
  { agent: "a", claim: "founded 1999" },
  { agent: "b", result: "r1", claim: "founded 2001" },
];

// ---- timers ----------------------------------------------------------------------------------

Deno.test("POST …/timers answers 201 {timer}, GET lists pending timers soonest first, DELETE is 204", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    const late = await call(rt, "POST", "/v1/sessions/s1/timers", {
      body: { id: "late", in: "10m", data: { remind: "check" } },
    });
    expect(late, 201);
    assert.equal(late.body.timer.id, "late");
    assert.equal(late.body.timer.due, new Date(c.now() + 10 * MINUTE).toISOString());
    const soon = await call(rt, "POST", "/v1/sessions/s1/timers", {
      body: { at: c.now() + MINUTE, patch: [{ op: "add", path: "/fired", value: true }] },
    });
    expect(soon, 201);
    const list = await call(rt, "GET", "/v1/sessions/s1/timers");
    expect(list, 200);
    assert.deepEqual(list.body.timers.map((t: { id: string }) => t.id), [
      soon.body.timer.id,
      "late",
    ]);
    expect(await call(rt, "DELETE", "/v1/sessions/s1/timers/late"), 204);
    const again = await call(rt, "DELETE", "/v1/sessions/s1/timers/late");
    expect(again, 404);
    assert.match(again.body.error.message, /Timer 'late' not found/);
  }, { clock: c });
});

Deno.test("a timer with a patch fires on runDue and leaves the pending list; cancelling a fired timer is 404", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    const res = await call(rt, "POST", "/v1/sessions/s1/timers", {
      body: { id: "t1", in: "1m", patch: [{ op: "add", path: "/fired", value: true }] },
    });
    expect(res, 201);
    c.advance(MINUTE);
    await rt.runDue();
    assert.deepEqual((await rt.get("s1")).state, { fired: true });
    assert.deepEqual((await call(rt, "GET", "/v1/sessions/s1/timers")).body.timers, []);
    expect(await call(rt, "DELETE", "/v1/sessions/s1/timers/t1"), 404);
  }, { clock: c });
});

Deno.test("POST …/timers refuses both or neither of in and at, an action with a patch, and unknown fields with 400", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    for (
      const body of [
        {},
        { in: "1m", at: 0 },
        { in: "1m", action: "add", patch: [{ op: "remove", path: "/a" }] },
        { in: "1m", nope: 1 },
        { in: -5 },
        { in: "1m", id: "bad id" },
      ]
    ) {
      const res = await call(rt, "POST", "/v1/sessions/s1/timers", { body });
      expect(res, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, "invalid");
    }
    assert.deepEqual(await rt.timers("s1"), []);
  }));

Deno.test("POST …/timers naming an action the kind lacks is 404; a taken timer id is 409", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const res = await call(rt, "POST", "/v1/sessions/s1/timers", {
      body: { in: "1m", action: "nope" },
    });
    expect(res, 404);
    assert.match(res.body.error.message, /Action 'nope' not found/);
    expect(await call(rt, "POST", "/v1/sessions/s1/timers", { body: { id: "t", in: "1m" } }), 201);
    expect(await call(rt, "POST", "/v1/sessions/s1/timers", { body: { id: "t", in: "2m" } }), 409);
  }));

Deno.test("timer routes of an unknown session are 404, of a malformed session or timer id 400", () =>
  withRuntime(async (rt) => {
    expect(await call(rt, "POST", "/v1/sessions/nope/timers", { body: { in: "1m" } }), 404);
    expect(await call(rt, "GET", "/v1/sessions/nope/timers"), 404);
    expect(await call(rt, "DELETE", "/v1/sessions/nope/timers/t"), 404);
    expect(await call(rt, "GET", "/v1/sessions/bad%20id/timers"), 400);
    await create(rt, "s1");
    expect(await call(rt, "DELETE", "/v1/sessions/s1/timers/bad%20id"), 400);
    expect(await call(rt, "GET", "/v1/sessions/s1/timers?x=1"), 400);
  }));

// ---- approvals -------------------------------------------------------------------------------

Deno.test("POST …/approvals answers 201 pending with the default options; GET filters by status", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    const res = await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "plan", prompt: "Approve the plan?", deadline: "30m", data: { steps: 3 } },
    });
    expect(res, 201);
    assert.equal(res.body.approval.status, "pending");
    assert.deepEqual(res.body.approval.options, ["approve", "reject"]);
    assert.equal(res.body.approval.deadline, new Date(c.now() + 30 * MINUTE).toISOString());
    await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "step", prompt: "Go?", deadline: "1h" },
    });
    await call(rt, "POST", "/v1/sessions/s1/approvals/step/decision", {
      body: { option: "approve" },
    });
    const pending = await call(rt, "GET", "/v1/sessions/s1/approvals?status=pending");
    assert.deepEqual(pending.body.approvals.map((a: { id: string }) => a.id), ["plan"]);
    const all = await call(rt, "GET", "/v1/sessions/s1/approvals");
    assert.deepEqual(all.body.approvals.map((a: { id: string }) => a.id), ["plan", "step"]);
    expect(await call(rt, "GET", "/v1/sessions/s1/approvals?status=maybe"), 400);
  }, { clock: c });
});

Deno.test("POST …/approvals refuses a missing prompt or deadline, a bad deadline and an onDeadline not offered with 400", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    for (
      const body of [
        { deadline: "30m" },
        { prompt: "p" },
        { prompt: "p", deadline: "soon" },
        { prompt: "p", deadline: "30m", onDeadline: "maybe" },
        { prompt: "p", deadline: "30m", options: [] },
        { prompt: "p", deadline: "30m", extra: true },
      ]
    ) {
      expect(
        await call(rt, "POST", "/v1/sessions/s1/approvals", { body }),
        400,
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await rt.approvals("s1"), []);
  }));

Deno.test("POST …/decision answers 200 decided; a second decision is 409 naming the first; an option not offered is 400", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "a1", prompt: "Ship?", deadline: "1h", options: ["ship", "hold"] },
    });
    const wrong = await call(rt, "POST", "/v1/sessions/s1/approvals/a1/decision", {
      body: { option: "approve" },
    });
    expect(wrong, 400);
    assert.match(wrong.body.error.message, /Option 'approve' is not offered/);
    const ok = await call(rt, "POST", "/v1/sessions/s1/approvals/a1/decision", {
      body: { option: "ship", by: "alice", comment: "looks good" },
    });
    expect(ok, 200);
    assert.equal(ok.body.approval.status, "decided");
    assert.equal(ok.body.approval.option, "ship");
    assert.equal(ok.body.approval.by, "alice");
    assert.equal(ok.body.approval.comment, "looks good");
    const second = await call(rt, "POST", "/v1/sessions/s1/approvals/a1/decision", {
      body: { option: "hold", by: "bob" },
    });
    expect(second, 409);
    assert.match(second.body.error.message, /already decided: 'ship' by alice/);
  }));

Deno.test("a decision after the deadline is 409 expired; at the deadline onDeadline decides by 'deadline'", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "late", prompt: "p", deadline: "10m" },
    });
    await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "auto", prompt: "p", deadline: "10m", onDeadline: "reject" },
    });
    c.advance(11 * MINUTE);
    const late = await call(rt, "POST", "/v1/sessions/s1/approvals/late/decision", {
      body: { option: "approve" },
    });
    expect(late, 409);
    assert.match(late.body.error.message, /expired/);
    await rt.runDue();
    const all = (await call(rt, "GET", "/v1/sessions/s1/approvals")).body.approvals;
    const byId = Object.fromEntries(all.map((a: { id: string }) => [a.id, a]));
    assert.equal(byId.late.status, "expired");
    assert.equal(byId.auto.status, "decided");
    assert.equal(byId.auto.option, "reject");
    assert.equal(byId.auto.by, "deadline");
  }, { clock: c });
});

Deno.test("POST …/decision of an unknown approval or session is 404; a bad body is 400", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const unknown = await call(rt, "POST", "/v1/sessions/s1/approvals/nope/decision", {
      body: { option: "approve" },
    });
    expect(unknown, 404);
    assert.match(unknown.body.error.message, /Approval 'nope' not found/);
    expect(
      await call(rt, "POST", "/v1/sessions/nope/approvals/a/decision", { body: { option: "x" } }),
      404,
    );
    expect(await call(rt, "GET", "/v1/sessions/nope/approvals"), 404);
    await call(rt, "POST", "/v1/sessions/s1/approvals", {
      body: { id: "a", prompt: "p", deadline: "1h" },
    });
    for (const body of [{}, { option: "" }, { option: "approve", extra: 1 }, "not json"]) {
      expect(
        await call(rt, "POST", "/v1/sessions/s1/approvals/a/decision", { body }),
        400,
        JSON.stringify(body),
      );
    }
  }));

Deno.test("an Idempotency-Key makes a request of an approval exactly-once", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const headers = { "Idempotency-Key": "ask-1" };
    const body = { prompt: "p", deadline: "1h" };
    const first = await call(rt, "POST", "/v1/sessions/s1/approvals", { body, headers });
    const again = await call(rt, "POST", "/v1/sessions/s1/approvals", { body, headers });
    expect(first, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal((await rt.approvals("s1")).length, 1);
  }));

// ---- the inbox ---------------------------------------------------------------------------------

Deno.test("GET /v1/approvals pages pending approvals of every session, oldest deadline first", () =>
  withRuntime(async (rt) => {
    await create(rt, "A");
    await create(rt, "B");
    const ask = (s: string, id: string, deadline: string) =>
      call(rt, "POST", `/v1/sessions/${s}/approvals`, { body: { id, prompt: id, deadline } });
    await ask("A", "a3", "3h");
    await ask("B", "b1", "1h");
    await ask("A", "a2", "2h");
    await ask("B", "b4", "4h");
    await ask("B", "b5", "5h");
    await call(rt, "POST", "/v1/sessions/B/approvals/b5/decision", { body: { option: "approve" } });

    const first = await call(rt, "GET", "/v1/approvals?status=pending&limit=3");
    expect(first, 200);
    assert.deepEqual(
      first.body.items.map((a: { session: string; id: string }) => `${a.session}/${a.id}`),
      ["B/b1", "A/a2", "A/a3"],
    );
    assert.equal(typeof first.body.nextCursor, "string");
    const rest = await call(
      rt,
      "GET",
      `/v1/approvals?status=pending&limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    assert.deepEqual(rest.body.items.map((a: { id: string }) => a.id), ["b4"]);
    assert.equal(rest.body.nextCursor, null);
    const decided = await call(rt, "GET", "/v1/approvals?status=decided");
    assert.deepEqual(decided.body.items.map((a: { id: string }) => a.id), ["b5"]);
    const ofA = await call(rt, "GET", "/v1/approvals?session=A");
    assert.deepEqual(ofA.body.items.map((a: { id: string }) => a.id), ["a2", "a3"]);
  }));

Deno.test("GET /v1/approvals refuses limit 0 or over 500, unknown parameters, a bad status and a bad cursor with 400", () =>
  withRuntime(async (rt) => {
    for (
      const q of ["limit=0", "limit=501", "limit=x", "nope=1", "status=open", "cursor=%21%21"]
    ) {
      expect(await call(rt, "GET", `/v1/approvals?${q}`), 400, q);
    }
  }));

// ---- tasks -------------------------------------------------------------------------------------

async function plan(rt: Runtime, id = "s1"): Promise<void> {
  const res = await call(rt, "POST", `/v1/sessions/${id}/tasks`, {
    body: {
      tasks: [
        { id: "search", title: "Search" },
        { id: "read", title: "Read", deps: ["search"] },
        { id: "write", title: "Write", deps: ["read"], maxAttempts: 1 },
      ],
    },
  });
  expect(res, 201);
}

Deno.test("POST …/tasks answers 201 {tasks}: ready without deps, blocked behind them; GET filters by status", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const res = await call(rt, "POST", "/v1/sessions/s1/tasks", {
      body: { tasks: [{ id: "a", title: "A" }, { id: "b", title: "B", deps: ["a"] }] },
    });
    expect(res, 201);
    assert.deepEqual(
      res.body.tasks.map((t: { id: string; status: string }) => [t.id, t.status]),
      [["a", "ready"], ["b", "blocked"]],
    );
    assert.equal(res.body.approval, undefined);
    const ready = await call(rt, "GET", "/v1/sessions/s1/tasks?status=ready");
    assert.deepEqual(ready.body.tasks.map((t: { id: string }) => t.id), ["a"]);
    const all = await call(rt, "GET", "/v1/sessions/s1/tasks");
    assert.deepEqual(all.body.tasks.map((t: { id: string }) => t.id), ["a", "b"]);
    expect(await call(rt, "GET", "/v1/sessions/s1/tasks?status=sleeping"), 400);
  }));

Deno.test("POST …/tasks with an unknown dep, a cycle, a repeated id or no tasks is 400 and adds nothing", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    for (
      const tasks of [
        [{ id: "a", title: "A", deps: ["ghost"] }],
        [{ id: "a", title: "A", deps: ["b"] }, { id: "b", title: "B", deps: ["a"] }],
        [{ id: "a", title: "A" }, { id: "a", title: "again" }],
        [],
        [{ id: "a" }],
      ]
    ) {
      const res = await call(rt, "POST", "/v1/sessions/s1/tasks", { body: { tasks } });
      expect(res, 400, JSON.stringify(tasks));
    }
    assert.deepEqual(await rt.tasks("s1"), []);
    expect(
      await call(rt, "POST", "/v1/sessions/nope/tasks", {
        body: { tasks: [{ id: "a", title: "A" }] },
      }),
      404,
    );
    expect(await call(rt, "GET", "/v1/sessions/nope/tasks"), 404);
  }));

Deno.test("claim gives the oldest ready task with a lease, then {task: null}; complete makes dependants ready", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    await plan(rt);
    const claimed = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", {
      body: { agent: "ann", lease: "5m" },
    });
    expect(claimed, 200);
    assert.equal(claimed.body.task.id, "search");
    assert.equal(claimed.body.task.status, "claimed");
    assert.equal(claimed.body.task.holder, "ann");
    assert.equal(claimed.body.task.leaseUntil, new Date(c.now() + 5 * MINUTE).toISOString());
    const none = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", { body: { agent: "bob" } });
    expect(none, 200);
    assert.deepEqual(none.body, { task: null });

    c.advance(MINUTE);
    const beat = await call(rt, "POST", "/v1/sessions/s1/tasks/search/heartbeat", {
      body: { agent: "ann", lease: "5m" },
    });
    expect(beat, 200);
    assert.equal(beat.body.task.leaseUntil, new Date(c.now() + 5 * MINUTE).toISOString());
    const done = await call(rt, "POST", "/v1/sessions/s1/tasks/search/complete", {
      body: { agent: "ann", result: { hits: 3 } },
    });
    expect(done, 200);
    assert.equal(done.body.task.status, "done");
    assert.deepEqual(done.body.task.result, { hits: 3 });
    const ready = await call(rt, "GET", "/v1/sessions/s1/tasks?status=ready");
    assert.deepEqual(ready.body.tasks.map((t: { id: string }) => t.id), ["read"]);
  }, { clock: c });
});

Deno.test("heartbeat, complete and fail by an agent that does not hold the task are 409 naming the holder", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    await plan(rt);
    await call(rt, "POST", "/v1/sessions/s1/tasks/claim", { body: { agent: "ann" } });
    for (
      const [path, body] of [
        ["heartbeat", { agent: "bob" }],
        ["complete", { agent: "bob", result: 1 }],
        ["fail", { agent: "bob", error: "nope" }],
      ] as const
    ) {
      const res = await call(rt, "POST", `/v1/sessions/s1/tasks/search/${path}`, { body });
      expect(res, 409, path);
      assert.match(res.body.error.message, /held by 'ann', not 'bob'/);
    }
    const named = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", {
      body: { agent: "bob", task: "search" },
    });
    expect(named, 409);
    assert.match(named.body.error.message, /held by 'ann'/);
    const blocked = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", {
      body: { agent: "bob", task: "read" },
    });
    expect(blocked, 409);
    assert.match(blocked.body.error.message, /is blocked, not ready/);
  }));

Deno.test("fail by the holder answers 200 failed; task routes of an unknown task are 404, bad bodies 400", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    await plan(rt);
    await call(rt, "POST", "/v1/sessions/s1/tasks/claim", { body: { agent: "ann" } });
    const failed = await call(rt, "POST", "/v1/sessions/s1/tasks/search/fail", {
      body: { agent: "ann", error: "site down" },
    });
    expect(failed, 200);
    assert.equal(failed.body.task.status, "failed");
    assert.equal(failed.body.task.error, "site down");
    for (const path of ["heartbeat", "complete", "fail"]) {
      const body = path === "fail" ? { agent: "ann", error: "x" } : { agent: "ann" };
      expect(await call(rt, "POST", `/v1/sessions/s1/tasks/ghost/${path}`, { body }), 404, path);
    }
    expect(
      await call(rt, "POST", "/v1/sessions/s1/tasks/claim", {
        body: { agent: "ann", task: "ghost" },
      }),
      404,
    );
    for (
      const [path, body] of [
        ["claim", {}],
        ["claim", { agent: "bad name!" }],
        ["claim", { agent: "ann", lease: "forever" }],
        ["claim", { agent: "ann", extra: 1 }],
        ["read/fail", { agent: "ann" }],
        ["read/heartbeat", { agent: "ann", lease: -1 }],
      ] as const
    ) {
      expect(await call(rt, "POST", `/v1/sessions/s1/tasks/${path}`, { body }), 400, path);
    }
    expect(
      await call(rt, "POST", "/v1/sessions/nope/tasks/claim", { body: { agent: "ann" } }),
      404,
    );
  }));

Deno.test("tasks added behind an approval wait blocked; approve releases them, reject drops them", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const gated = await call(rt, "POST", "/v1/sessions/s1/tasks", {
      body: {
        tasks: [{ id: "a", title: "A" }, { id: "b", title: "B", deps: ["a"] }],
        approval: { id: "plan", prompt: "Run this plan?", deadline: "1h" },
      },
    });
    expect(gated, 201);
    assert.equal(gated.body.approval.id, "plan");
    assert.deepEqual(gated.body.approval.tasks, ["a", "b"]);
    assert.ok(
      gated.body.tasks.every((t: { status: string; gate: string }) =>
        t.status === "blocked" && t.gate === "plan"
      ),
    );
    const none = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", { body: { agent: "ann" } });
    assert.equal(none.body.task, null);
    await call(rt, "POST", "/v1/sessions/s1/approvals/plan/decision", {
      body: { option: "approve" },
    });
    const after = (await call(rt, "GET", "/v1/sessions/s1/tasks")).body.tasks;
    assert.deepEqual(after.map((t: { status: string }) => t.status), ["ready", "blocked"]);
    assert.ok(after.every((t: { gate?: string }) => t.gate === undefined));

    await call(rt, "POST", "/v1/sessions/s1/tasks", {
      body: {
        tasks: [{ id: "c", title: "C" }],
        approval: { id: "more", prompt: "p", deadline: "1h" },
      },
    });
    await call(rt, "POST", "/v1/sessions/s1/approvals/more/decision", {
      body: { option: "reject" },
    });
    assert.deepEqual((await rt.tasks("s1")).map((t) => t.id), ["a", "b"]);
  }));

Deno.test("a lease that passes returns the task to ready; past maxAttempts it fails", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    await create(rt, "s1");
    await call(rt, "POST", "/v1/sessions/s1/tasks", {
      body: { tasks: [{ id: "once", title: "Once", maxAttempts: 2 }] },
    });
    for (const attempt of [1, 2]) {
      const res = await call(rt, "POST", "/v1/sessions/s1/tasks/claim", {
        body: { agent: "ann", lease: "1m" },
      });
      assert.equal(res.body.task.attempt, attempt);
      c.advance(2 * MINUTE);
      await rt.runDue();
    }
    const [task] = (await call(rt, "GET", "/v1/sessions/s1/tasks")).body.tasks;
    assert.equal(task.status, "failed");
    assert.match(task.error, /Lease expired on attempt 2 of 2/);
  }, { clock: c });
});

// ---- conflicts ---------------------------------------------------------------------------------

Deno.test("POST …/conflicts answers 201 open; resolve answers 200, a second resolve 409; GET filters by resolved", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const rec = await call(rt, "POST", "/v1/sessions/s1/conflicts", {
      body: { id: "c1", entity: "ACME", type: "founding_year", findings, severity: "high" },
    });
    expect(rec, 201);
    assert.equal(rec.body.conflict.status, "open");
    await call(rt, "POST", "/v1/sessions/s1/conflicts", {
      body: { id: "c2", entity: "ACME", type: "hq", findings, severity: "low", strategy: "vote" },
    });
    const resolved = await call(rt, "POST", "/v1/sessions/s1/conflicts/c1/resolve", {
      body: { resolution: { year: 1999 }, by: "alice" },
    });
    expect(resolved, 200);
    assert.equal(resolved.body.conflict.status, "resolved");
    assert.deepEqual(resolved.body.conflict.resolution, { year: 1999 });
    assert.equal(resolved.body.conflict.by, "alice");
    const again = await call(rt, "POST", "/v1/sessions/s1/conflicts/c1/resolve", {
      body: { resolution: "other" },
    });
    expect(again, 409);
    assert.match(again.body.error.message, /already resolved by alice/);
    const open = await call(rt, "GET", "/v1/sessions/s1/conflicts?resolved=false");
    assert.deepEqual(open.body.conflicts.map((x: { id: string }) => x.id), ["c2"]);
    const done = await call(rt, "GET", "/v1/sessions/s1/conflicts?resolved=true");
    assert.deepEqual(done.body.conflicts.map((x: { id: string }) => x.id), ["c1"]);
    const all = await call(rt, "GET", "/v1/sessions/s1/conflicts");
    assert.equal(all.body.conflicts.length, 2);
  }));

Deno.test("conflict routes: one finding, a bad severity or no resolution is 400; unknown records and sessions 404", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    for (
      const body of [
        { entity: "e", type: "t", findings: findings.slice(0, 1), severity: "high" },
        { entity: "e", type: "t", findings, severity: "dire" },
        { entity: "e", findings, severity: "low" },
      ]
    ) {
      expect(
        await call(rt, "POST", "/v1/sessions/s1/conflicts", { body }),
        400,
        JSON.stringify(body),
      );
    }
    await call(rt, "POST", "/v1/sessions/s1/conflicts", {
      body: { id: "c1", entity: "e", type: "t", findings, severity: "low" },
    });
    expect(await call(rt, "POST", "/v1/sessions/s1/conflicts/c1/resolve", { body: {} }), 400);
    expect(await call(rt, "GET", "/v1/sessions/s1/conflicts?resolved=maybe"), 400);
    expect(
      await call(rt, "POST", "/v1/sessions/s1/conflicts/ghost/resolve", {
        body: { resolution: 1 },
      }),
      404,
    );
    expect(await call(rt, "GET", "/v1/sessions/nope/conflicts"), 404);
    expect(
      await call(rt, "POST", "/v1/sessions/nope/conflicts", {
        body: { entity: "e", type: "t", findings, severity: "low" },
      }),
      404,
    );
  }));

// ---- limits ------------------------------------------------------------------------------------

Deno.test("every mutating coordination route answers 413 to a body over the limit", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const huge = JSON.stringify({ data: "x".repeat(2 * 1024 * 1024) });
    for (
      const path of [
        "timers",
        "approvals",
        "approvals/a/decision",
        "tasks",
        "tasks/claim",
        "tasks/t/heartbeat",
        "tasks/t/complete",
        "tasks/t/fail",
        "conflicts",
        "conflicts/c/resolve",
      ]
    ) {
      const res = await call(rt, "POST", `/v1/sessions/s1/${path}`, { body: huge });
      expect(res, 413, path);
      assert.equal(res.body.error.code, "too_large");
    }
    expect(await call(rt, "PATCH", "/v1/sessions/s1", { body: huge }), 413);
    expect(await call(rt, "POST", "/v1/cleanup", { body: huge }), 413);
  }));

Deno.test("a record over 48 KiB is 413 even when the body is under the limit", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    const res = await call(rt, "POST", "/v1/sessions/s1/timers", {
      body: { in: "1m", data: "x".repeat(64 * 1024) },
    });
    expect(res, 413);
  }));

// ---- the session's metadata ---------------------------------------------------------------------

Deno.test("PATCH /v1/sessions/:id merges name, tags, meta and phase and answers 200 with the session", () =>
  withRuntime(async (rt) => {
    const created = await call(rt, "POST", "/v1/sessions", {
      body: { id: "s1", name: "old", meta: { owner: "ann", keep: 1 } },
    });
    expect(created, 201);
    const res = await call(rt, "PATCH", "/v1/sessions/s1", {
      body: {
        name: "ACME research",
        tags: ["acme"],
        meta: { owner: null, team: "red" },
        phase: "planning",
      },
    });
    expect(res, 200);
    assert.equal(res.body.name, "ACME research");
    assert.deepEqual(res.body.tags, ["acme"]);
    assert.deepEqual(res.body.meta, { keep: 1, team: "red" });
    assert.equal(res.body.phase, "planning");
    assert.equal(res.headers.get("ETag"), `"${res.body.version}"`);
    const found = await call(rt, "GET", "/v1/sessions?q=ACME");
    assert.deepEqual(found.body.items.map((s: { id: string }) => s.id), ["s1"]);
    const unnamed = await call(rt, "PATCH", "/v1/sessions/s1", { body: { name: null } });
    assert.equal(unnamed.body.name, undefined);
  }));

Deno.test("PATCH /v1/sessions/:id refuses an empty body, unknown fields and bad values with 400; an unknown session is 404", () =>
  withRuntime(async (rt) => {
    await create(rt, "s1");
    for (const body of [undefined, {}, { status: "paused" }, { tags: "x" }, { phase: "" }, []]) {
      expect(await call(rt, "PATCH", "/v1/sessions/s1", { body }), 400, JSON.stringify(body));
    }
    expect(await call(rt, "PATCH", "/v1/sessions/nope", { body: { name: "x" } }), 404);
  }));

// ---- the list's coordination filters --------------------------------------------------------------

Deno.test("GET /v1/sessions takes waiting=approval, conflicts=open and count=true", () =>
  withRuntime(async (rt) => {
    for (const id of ["quiet", "asks", "argues"]) await create(rt, id);
    await call(rt, "POST", "/v1/sessions/asks/approvals", {
      body: { prompt: "p", deadline: "1h" },
    });
    await call(rt, "POST", "/v1/sessions/argues/conflicts", {
      body: { entity: "e", type: "t", findings, severity: "low" },
    });
    await rt.pause("quiet");
    const waiting = await call(rt, "GET", "/v1/sessions?waiting=approval");
    expect(waiting, 200);
    assert.deepEqual(waiting.body.items.map((s: { id: string }) => s.id), ["asks"]);
    const open = await call(rt, "GET", "/v1/sessions?conflicts=open");
    assert.deepEqual(open.body.items.map((s: { id: string }) => s.id), ["argues"]);
    const counted = await call(rt, "GET", "/v1/sessions?count=true&status=active&limit=1");
    expect(counted, 200);
    assert.equal(counted.body.items.length, 1);
    assert.equal(counted.body.total.active, 2);
    assert.equal(counted.body.total.paused, 1);
    const plain = await call(rt, "GET", "/v1/sessions");
    assert.equal(plain.body.total, undefined);
    for (const q of ["waiting=person", "conflicts=closed", "count=yes"]) {
      expect(await call(rt, "GET", `/v1/sessions?${q}`), 400, q);
    }
  }));

// ---- cleanup -----------------------------------------------------------------------------------

Deno.test("POST /v1/cleanup with dryRun lists what it would delete and deletes nothing; without, deletes them", () => {
  const c = clock();
  return withRuntime(async (rt) => {
    for (const id of ["old1", "old2", "failed", "live"]) await create(rt, id);
    await rt.complete("old1");
    await rt.complete("old2");
    await rt.fail("failed", "boom");
    c.advance(40 * 86_400_000);
    const rules = { olderThanDays: 30, keepCompleted: 1 };
    const dry = await call(rt, "POST", "/v1/cleanup", { body: { ...rules, dryRun: true } });
    expect(dry, 200);
    assert.deepEqual(Object.keys(dry.body), ["wouldDelete"]);
    assert.deepEqual(dry.body.wouldDelete.toSorted(), ["failed", "old1"]);
    expect(await call(rt, "GET", "/v1/sessions/old1"), 200);
    const real = await call(rt, "POST", "/v1/cleanup", { body: rules });
    expect(real, 200);
    assert.deepEqual(real.body.deleted.toSorted(), ["failed", "old1"]);
    expect(await call(rt, "GET", "/v1/sessions/old1"), 404);
    expect(await call(rt, "GET", "/v1/sessions/old2"), 200);
    expect(await call(rt, "GET", "/v1/sessions/live"), 200);
  }, { clock: c });
});

Deno.test("POST /v1/cleanup refuses bad rules and unknown fields with 400", () =>
  withRuntime(async (rt) => {
    for (
      const body of [{ olderThanDays: -1 }, { keepCompleted: 1.5 }, { failed: "yes" }, {
        all: true,
      }]
    ) {
      expect(await call(rt, "POST", "/v1/cleanup", { body }), 400, JSON.stringify(body));
    }
    expect(await call(rt, "POST", "/v1/cleanup?now=1", { body: {} }), 400);
  }));

// ---- tokens ------------------------------------------------------------------------------------

const SERVER = bearer("server-secret");

async function mint(rt: Runtime, session: string, agent?: string): Promise<Record<string, string>> {
  const res = await call(rt, "POST", `/v1/sessions/${session}/tokens`, {
    body: agent ? { agent } : {},
    headers: SERVER,
  });
  expect(res, 201);
  return bearer(res.body.token);
}

Deno.test("a session token reaches its session's coordination routes, not another session's", () =>
  withRuntime(async (rt) => {
    await create(rt, "A", SERVER);
    await create(rt, "B", SERVER);
    const tokenA = await mint(rt, "A");
    const headers = tokenA;
    expect(await call(rt, "POST", "/v1/sessions/A/timers", { body: { in: "1m" }, headers }), 201);
    expect(await call(rt, "GET", "/v1/sessions/A/timers", { headers }), 200);
    const ask = await call(rt, "POST", "/v1/sessions/A/approvals", {
      body: { id: "a", prompt: "p", deadline: "1h" },
      headers,
    });
    expect(ask, 201);
    expect(
      await call(rt, "POST", "/v1/sessions/A/approvals/a/decision", {
        body: { option: "approve" },
        headers,
      }),
      200,
    );
    expect(
      await call(rt, "POST", "/v1/sessions/A/tasks", {
        body: { tasks: [{ id: "t", title: "T" }] },
        headers,
      }),
      201,
    );
    expect(
      await call(rt, "POST", "/v1/sessions/A/tasks/claim", { body: { agent: "ann" }, headers }),
      200,
    );
    expect(await call(rt, "GET", "/v1/sessions/A/conflicts", { headers }), 200);
    expect(await call(rt, "PATCH", "/v1/sessions/A", { body: { phase: "p" }, headers }), 200);
    for (
      const [method, path, body] of [
        ["POST", "/v1/sessions/B/timers", { in: "1m" }],
        ["GET", "/v1/sessions/B/approvals", undefined],
        ["POST", "/v1/sessions/B/tasks/claim", { agent: "ann" }],
        ["POST", "/v1/sessions/B/conflicts", { entity: "e", type: "t", findings, severity: "low" }],
        ["PATCH", "/v1/sessions/B", { phase: "p" }],
      ] as const
    ) {
      const res = await call(rt, method, path, { body, headers });
      expect(res, 403, `${method} ${path}`);
    }
  }, { token: "server-secret" }));

Deno.test("a session token never reaches the inbox or cleanup (403); the server token does; none is 401", () =>
  withRuntime(async (rt) => {
    await create(rt, "A", SERVER);
    const tokenA = await mint(rt, "A", "ann");
    expect(await call(rt, "GET", "/v1/approvals", { headers: tokenA }), 403);
    expect(await call(rt, "POST", "/v1/cleanup", { body: { dryRun: true }, headers: tokenA }), 403);
    expect(await call(rt, "GET", "/v1/approvals", { headers: SERVER }), 200);
    expect(await call(rt, "POST", "/v1/cleanup", { body: { dryRun: true }, headers: SERVER }), 200);
    expect(await call(rt, "GET", "/v1/approvals"), 401);
    expect(await call(rt, "POST", "/v1/cleanup", { body: {} }), 401);
    expect(await call(rt, "GET", "/v1/sessions/A/tasks"), 401);
  }, { token: "server-secret" }));

Deno.test("with an agent's session token, task routes act for that agent; naming another agent is 403", () =>
  withRuntime(async (rt) => {
    await create(rt, "A", SERVER);
    await call(rt, "POST", "/v1/sessions/A/tasks", {
      body: { tasks: [{ id: "t", title: "T" }] },
      headers: SERVER,
    });
    const ann = await mint(rt, "A", "ann");
    const other = await call(rt, "POST", "/v1/sessions/A/tasks/claim", {
      body: { agent: "bob" },
      headers: ann,
    });
    expect(other, 403);
    assert.match(other.body.error.message, /Token is for agent 'ann'/);
    const claimed = await call(rt, "POST", "/v1/sessions/A/tasks/claim", {
      body: {},
      headers: ann,
    });
    expect(claimed, 200);
    assert.equal(claimed.body.task.holder, "ann");
    const done = await call(rt, "POST", "/v1/sessions/A/tasks/t/complete", { headers: ann });
    expect(done, 200);
    assert.equal(done.body.task.status, "done");
    const [event] = (await rt.events("A")).filter((e) => e.type === "task.done");
    assert.equal(event.agent, "ann");
  }, { token: "server-secret" }));
