import assert from "node:assert/strict";
import type { Runtime } from "../../actors/runtime.ts";
import { PLACES, tableRows } from "./_run.ts";

/** A plan of three dependent tasks, the first claimed for 5 minutes; one behind an approval; one session without a plan. */
async function plans(rt: Runtime) {
  await rt.create("default", { id: "s1" });
  await rt.addTasks("s1", {
    tasks: [
      { id: "collect", title: "Collect sources" },
      { id: "read", title: "Read the sources", deps: ["collect"] },
      { id: "write", title: "Write the report", deps: ["collect", "read"], maxAttempts: 5 },
    ],
  });
  await rt.claim("s1", { agent: "scout", lease: "5m" });
  await rt.create("default", { id: "s2" });
  await rt.addTasks("s2", {
    tasks: [{ id: "publish", title: "Publish" }],
    approval: { id: "go", prompt: "Publish?", deadline: "1h" },
  });
  await rt.create("default", { id: "empty" });
  return await rt.tasks("s1");
}

for (const place of PLACES) {
  Deno.test(`tasks lists the plan in order with holder, lease left, attempt and deps; --status filters (${place.name})`, async () => {
    await place.run(plans, async (cli, s1) => {
      const text = await cli(["tasks", "s1"]);
      assert.deepStrictEqual([text.code, text.stderr], [0, ""]);
      const [header, ...rows] = tableRows(text.stdout);
      assert.deepStrictEqual(header, [
        "ID",
        "TITLE",
        "STATUS",
        "HOLDER",
        "LEASE",
        "ATTEMPT",
        "DEPS",
      ]);
      assert.match(rows[0][4], /^(4m \d+s|4m|5m)$/);
      assert.deepStrictEqual(rows.map((r) => [...r.slice(0, 4), ...r.slice(5)]), [
        ["collect", "Collect sources", "claimed", "scout", "1/3", "-"],
        ["read", "Read the sources", "blocked", "-", "0/3", "collect"],
        ["write", "Write the report", "blocked", "-", "0/5", "collect, read"],
      ]);
      const gated = await cli(["tasks", "s2"]);
      assert.deepStrictEqual(tableRows(gated.stdout)[1], [
        "publish",
        "Publish",
        "blocked (approval go)",
        "-",
        "-",
        "0/3",
        "-",
      ]);
      const json = await cli(["tasks", "s1", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepStrictEqual(JSON.parse(json.stdout), { tasks: s1 });
      const blocked = await cli(["tasks", "s1", "--status", "blocked", "--json"]);
      assert.deepStrictEqual(JSON.parse(blocked.stdout).tasks.map((t: { id: string }) => t.id), [
        "read",
        "write",
      ]);
      const done = await cli(["tasks", "s1", "--status", "done"]);
      assert.deepStrictEqual([done.code, done.stdout], [0, "No done tasks\n"]);
    });
  });

  Deno.test(`tasks of a session without a plan prints 'No tasks'; of a missing one exits 4 (${place.name})`, async () => {
    await place.run(plans, async (cli) => {
      const empty = await cli(["tasks", "empty"]);
      assert.deepStrictEqual([empty.code, empty.stdout, empty.stderr], [0, "No tasks\n", ""]);
      const json = await cli(["tasks", "empty", "--json"]);
      assert.deepStrictEqual(JSON.parse(json.stdout), { tasks: [] });
      const missing = await cli(["tasks", "ghost"]);
      assert.deepStrictEqual([missing.code, missing.stdout, missing.stderr], [
        4,
        "",
        "error: Session 'ghost' not found\n",
      ]);
    });
  });
}
