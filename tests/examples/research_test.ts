import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { runExample } from "./_run.ts";

const TASKS = ["registry", "press", "filings", "compare", "report"];

/** Checks what research.ts printed: the plan, who did what, the approval, the conflict, the summary. */
function checkOutput(stdout: string): void {
  const lines = stdout.trimEnd().split("\n");
  assert.match(lines[1], /^plan: 5 tasks, waiting for approval \S+$/);
  assert.ok(lines.includes("carol decided 'approve' on the plan"), stdout);
  const claimed = lines.flatMap((l) =>
    l.match(/^(scout|analyst|writer) claimed (\w+)$/)?.[2] ?? []
  );
  assert.deepEqual(claimed.toSorted(), TASKS.toSorted(), "each task claimed exactly once");
  const recorded = stdout.match(
    /^conflict (\S+) recorded by (?:scout|analyst|writer): founding_year \(1999 vs 2001\)$/m,
  );
  assert.ok(recorded, stdout);
  assert.ok(lines.includes(`carol resolved ${recorded[1]}: founded 1999`), stdout);
  const summary = lines.slice(lines.indexOf("summary:"));
  assert.equal(summary[1], `  tasks: ${TASKS.map((t) => `${t} done`).join(", ")}`);
  assert.match(summary[2], /^ {2}approval \S+: decided \(approve by carol\)$/);
  assert.equal(summary[3], `  conflict ${recorded[1]}: resolved by carol`);
  assert.equal(summary[4], "  results: 5, findings in state: 5");
  assert.match(summary[5], /^ {2}session: completed, progress 1, version \d+$/);
}

Deno.test("examples/research.ts: three agents share a plan the person approved, and the person resolves their conflict", async () => {
  const ran = await runExample("research.ts");
  assert.equal(ran.code, 0, ran.stderr);
  checkOutput(ran.stdout);
});

Deno.test("examples/research.ts --url runs against a server that wants a token", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0, token: "research-token" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rt.app.fetch);
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const ran = await runExample("research.ts", ["--url", url, "--token", "research-token"]);
    assert.equal(ran.code, 0, ran.stderr);
    checkOutput(ran.stdout);
    const { items } = await rt.list({ status: "completed" });
    assert.deepEqual(items.map((s) => s.name), ["ACME Corp due diligence"]);
    assert.equal((await rt.conflicts(items[0].id, { resolved: true })).length, 1);
  } finally {
    await server.shutdown();
    await rt.close();
  }
});
