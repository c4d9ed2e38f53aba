import assert from "node:assert/strict";
import { seed, sessions, tempData } from "./_run.ts";

Deno.test("list on an empty data directory prints 'No sessions', and {items: []} with --json", async () => {
  const [data, done] = await tempData();
  try {
    const text = await sessions(["list", "--data", data]);
    assert.deepStrictEqual([text.code, text.stdout, text.stderr], [0, "No sessions\n", ""]);
    const json = await sessions(["list", "--data", data, "--json"]);
    assert.equal(json.code, 0);
    assert.deepStrictEqual(JSON.parse(json.stdout), { items: [], nextCursor: null });
  } finally {
    await done();
  }
});

Deno.test("list prints a table and filters by status, tag and text; --json gives the sessions", async () => {
  const [data, done] = await tempData();
  try {
    await seed(data, async (rt) => {
      await rt.create("default", { id: "alpha", name: "Alpha", tags: ["red"] });
      await rt.create("default", { id: "beta", name: "Beta", tags: ["blue"] });
      await rt.complete("beta");
    });
    const table = await sessions(["list", "--data", data]);
    assert.equal(table.code, 0);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^ID\s+KIND\s+STATUS\s+PHASE\s+PROGRESS\s+VERSION\s+UPDATED\s+NAME$/);
    assert.deepStrictEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]).sort(), ["alpha", "beta"]);
    const ids = async (...filter: string[]) => {
      const r = await sessions(["list", "--data", data, "--json", ...filter]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).items.map((s: { id: string }) => s.id);
    };
    assert.deepStrictEqual(await ids("--status", "completed"), ["beta"]);
    assert.deepStrictEqual(await ids("--tag", "red"), ["alpha"]);
    assert.deepStrictEqual(await ids("--q", "Alpha"), ["alpha"]);
    assert.deepStrictEqual(await ids("--limit", "1").then((x) => x.length), 1);
  } finally {
    await done();
  }
});

Deno.test("show, pause, resume and complete print the session; --json parses to it", async () => {
  const [data, done] = await tempData();
  try {
    await seed(data, (rt) => rt.create("default", { id: "s1", state: { n: 1 } }));
    const shown = await sessions(["show", "s1", "--data", data]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /^id\s+s1$/m);
    assert.match(shown.stdout, /^status\s+active$/m);
    const status = async (...args: string[]) => {
      const r = await sessions([...args, "--data", data, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    assert.equal((await status("pause", "s1")).status, "paused");
    assert.equal((await status("resume", "s1")).status, "active");
    const completed = await status("complete", "s1", "--report", '{"ok":true}');
    assert.deepStrictEqual([completed.status, completed.report], ["completed", { ok: true }]);
    const text = await sessions(["resume", "s1", "--data", data]);
    assert.equal(text.code, 1);
    assert.match(text.stderr, /^error: .*completed.*\n$/);
  } finally {
    await done();
  }
});

Deno.test("a missing session exits with 4 and says so on stderr, as JSON with --json", async () => {
  const [data, done] = await tempData();
  try {
    const text = await sessions(["show", "nope", "--data", data]);
    assert.deepStrictEqual([text.code, text.stdout, text.stderr], [
      4,
      "",
      "error: Session 'nope' not found\n",
    ]);
    const json = await sessions(["pause", "nope", "--data", data, "--json"]);
    assert.equal(json.code, 4);
    assert.deepStrictEqual(JSON.parse(json.stderr), {
      error: { code: "not_found", message: "Session 'nope' not found" },
    });
  } finally {
    await done();
  }
});

Deno.test("usage errors exit with 2 and name the problem", async () => {
  const [data, done] = await tempData();
  try {
    const cases: [string[], RegExp][] = [
      [["frob"], /unknown command 'frob'/],
      [["show"], /missing required argument 'id'/],
      [["list", "--limit", "0"], /--limit must be an integer from 1 to 500/],
      [["list", "--status", "sleeping"], /--status must be one of active, paused/],
      [["complete", "s1", "--report", "{oops"], /--report must be JSON/],
      [["show", "../etc"], /Invalid session id/],
      [["archive"], /a session id or --all-terminal/],
      [["cleanup", "--older-than", "soon"], /--older-than must be a duration/],
      [["export", "s1", "--json"], /--json needs -o FILE/],
      [["approvals", "--status", "open"], /--status must be one of pending, decided, expired/],
      [["approvals", "--session", "s1", "--cursor", "x"], /--session lists every approval/],
      [["approvals", "--limit", "501"], /--limit must be an integer from 1 to 500/],
      [["approvals", "decide", "s1", "a1"], /missing required argument 'option'/],
      [["approvals", "decide", "s1", "a b", "approve"], /Invalid approval id 'a b'/],
      [["approvals", "decide", "../s", "a1", "approve"], /Invalid session id/],
      [["tasks"], /missing required argument 'session'/],
      [["tasks", "s1", "--status", "open"], /--status must be one of blocked, ready, claimed/],
    ];
    for (const [args, message] of cases) {
      const r = await sessions([...args, "--data", data]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    }
  } finally {
    await done();
  }
});

Deno.test("a data directory that does not exist is an error, not a new empty one", async () => {
  const [data, done] = await tempData();
  try {
    const r = await sessions(["list", "--data", `${data}/missing`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Data directory '.*missing' does not exist/);
    await assert.rejects(() => Deno.stat(`${data}/missing`), Deno.errors.NotFound);
  } finally {
    await done();
  }
});
