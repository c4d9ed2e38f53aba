import assert from "node:assert/strict";
import type { Runtime } from "../../actors/runtime.ts";
import { PLACES, tableRows } from "./_run.ts";

/** Three pending approvals in two sessions, 30 minutes, 2 hours and a day from now. */
async function inbox(rt: Runtime) {
  await rt.create("default", { id: "s1" });
  await rt.create("default", { id: "s2" });
  const plan = await rt.requestApproval("s1", {
    id: "plan",
    prompt: "Approve the research plan?",
    deadline: "2h",
  }, { agent: "planner" });
  const budget = await rt.requestApproval("s2", {
    id: "budget",
    prompt: "Spend up to 40 USD?",
    options: ["yes", "no", "later"],
    deadline: "30m",
  });
  const publish = await rt.requestApproval("s2", {
    id: "publish",
    prompt: "Publish?",
    deadline: "1d",
  });
  return { plan, budget, publish };
}

const HOUR = 3_600_000;

for (const place of PLACES) {
  Deno.test(`approvals lists pending approvals across sessions, oldest deadline first, with time left and who asked (${place.name})`, async () => {
    await place.run(inbox, async (cli, { plan, budget, publish }) => {
      const text = await cli(["approvals"]);
      assert.deepStrictEqual([text.code, text.stderr], [0, ""]);
      const [header, ...rows] = tableRows(text.stdout);
      assert.deepStrictEqual(header, [
        "SESSION",
        "ID",
        "PROMPT",
        "OPTIONS",
        "DEADLINE",
        "LEFT",
        "REQUESTED BY",
      ]);
      assert.deepStrictEqual(rows.map((r) => [...r.slice(0, 5), r[6]]), [
        ["s2", "budget", "Spend up to 40 USD?", "yes, no, later", budget.deadline, "-"],
        ["s1", "plan", "Approve the research plan?", "approve, reject", plan.deadline, "planner"],
        ["s2", "publish", "Publish?", "approve, reject", publish.deadline, "-"],
      ]);
      assert.match(rows[0][5], /^(29m \d+s|29m|30m)$/);
      assert.match(rows[1][5], /^(1h 59m|2h)$/);
      assert.match(rows[2][5], /^(23h 59m|1d)$/);
      const json = await cli(["approvals", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepStrictEqual(JSON.parse(json.stdout), {
        items: [
          { ...budget, session: "s2" },
          { ...plan, session: "s1" },
          { ...publish, session: "s2" },
        ],
        nextCursor: null,
      });
    });
  });

  Deno.test(`approvals pages with --limit and --cursor as list does (${place.name})`, async () => {
    await place.run(inbox, async (cli) => {
      const ids = (stdout: string) => JSON.parse(stdout).items.map((a: { id: string }) => a.id);
      const first = await cli(["approvals", "--limit", "2", "--json"]);
      assert.equal(first.code, 0, first.stderr);
      assert.deepStrictEqual(ids(first.stdout), ["budget", "plan"]);
      const cursor = JSON.parse(first.stdout).nextCursor;
      assert.equal(typeof cursor, "string");
      const next = await cli(["approvals", "--limit", "2", "--cursor", cursor, "--json"]);
      assert.equal(next.code, 0, next.stderr);
      assert.deepStrictEqual(JSON.parse(next.stdout).nextCursor, null);
      assert.deepStrictEqual(ids(next.stdout), ["publish"]);
      const text = await cli(["approvals", "--limit", "2"]);
      assert.equal(text.code, 0);
      assert.equal(tableRows(text.stdout).length, 3);
      assert.equal(text.stderr, `More: --cursor ${cursor}\n`);
    });
  });

  Deno.test(`approvals decide records the decision; --status and --session show it (${place.name})`, async () => {
    await place.run(inbox, async (cli, { budget }) => {
      const decided = await cli([
        "approvals",
        "decide",
        "s2",
        "budget",
        "yes",
        "--by",
        "alice",
        "--comment",
        "within reason",
      ]);
      assert.deepStrictEqual([decided.code, decided.stdout, decided.stderr], [
        0,
        "Approval 'budget' of session 's2' decided: yes by alice\n",
        "",
      ]);
      const json = await cli(["approvals", "decide", "s1", "plan", "reject", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const plan = JSON.parse(json.stdout);
      assert.deepStrictEqual([plan.id, plan.status, plan.option, plan.by], [
        "plan",
        "decided",
        "reject",
        undefined,
      ]);
      const pending = await cli(["approvals", "--json"]);
      assert.deepStrictEqual(JSON.parse(pending.stdout).items.map((a: { id: string }) => a.id), [
        "publish",
      ]);
      const past = await cli(["approvals", "--status", "decided"]);
      assert.equal(past.code, 0, past.stderr);
      const [header, ...rows] = tableRows(past.stdout);
      assert.equal(header[5], "OUTCOME");
      assert.deepStrictEqual(rows.map((r) => [r[0], r[1], r[5]]), [
        ["s2", "budget", "decided: yes by alice"],
        ["s1", "plan", "decided: reject"],
      ]);
      const one = await cli(["approvals", "--session", "s2", "--status", "decided", "--json"]);
      assert.equal(one.code, 0, one.stderr);
      const [item] = JSON.parse(one.stdout).items;
      assert.deepStrictEqual(item, {
        ...budget,
        session: "s2",
        status: "decided",
        option: "yes",
        by: "alice",
        comment: "within reason",
        decidedAt: item.decidedAt,
      });
      const none = await cli(["approvals", "--session", "s1"]);
      assert.deepStrictEqual([none.code, none.stdout], [0, "No pending approvals\n"]);
    });
  });

  Deno.test(`approvals decide: an option not offered exits 2 naming the options, an unknown approval or session 4, a second decision or a passed deadline 1 (${place.name})`, async () => {
    const seedFn = async (rt: Runtime) => {
      await rt.create("default", { id: "s1" });
      await rt.requestApproval("s1", { id: "plan", prompt: "Go?", deadline: "3h" });
      return await rt.requestApproval("s1", { id: "old", prompt: "Too late?", deadline: "1h" });
    };
    await place.run(seedFn, async (cli, old) => {
      const cases: [string[], number, string][] = [
        [
          ["s1", "plan", "maybe"],
          2,
          "Option 'maybe' is not offered by approval 'plan': the options are approve, reject",
        ],
        [["s1", "nope", "approve"], 4, "Approval 'nope' not found in session 's1'"],
        [["ghost", "plan", "approve"], 4, "Session 'ghost' not found"],
        [["s1", "plan", "approve", "--by", "alice"], 0, ""],
        [["s1", "plan", "reject"], 1, "Approval 'plan' was already decided: 'approve' by alice"],
        [["s1", "old", "approve"], 1, `Approval 'old' expired at ${old.deadline}`],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(["approvals", "decide", ...args]);
        assert.deepStrictEqual([r.code, r.stderr], [code, message ? `error: ${message}\n` : ""]);
        if (code !== 0) assert.equal(r.stdout, "");
      }
      const json = await cli(["approvals", "decide", "s1", "old", "later", "--json"]);
      assert.equal(json.code, 1);
      assert.deepStrictEqual(JSON.parse(json.stderr), {
        error: { code: "invalid_transition", message: `Approval 'old' expired at ${old.deadline}` },
      });
      const overdue = await cli(["approvals", "--session", "s1"]);
      assert.deepStrictEqual(tableRows(overdue.stdout).slice(1).map((r) => [r[1], r[5]]), [
        ["old", "overdue 1h"],
      ]);
    }, 2 * HOUR);
  });
}
