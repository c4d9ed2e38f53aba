import assert from "node:assert/strict";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const coordination = await Deno.readTextFile(new URL("../docs/coordination.md", import.meta.url));

/** The first ts block after `heading` in `doc` (the README unless named). */
function example(heading: string, doc = readme): string {
  const at = doc.indexOf(heading);
  assert.ok(at >= 0, `the heading ${heading} is there`);
  const code = /```ts\n([\s\S]*?)```/.exec(doc.slice(at))?.[1];
  assert.ok(code, `a ts example follows ${heading}`);
  return code;
}

async function run(code: string): Promise<string> {
  const file = new URL(`../_readme_example_${crypto.randomUUID()}.ts`, import.meta.url);
  await Deno.writeTextFile(file, code);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("the README's library example runs and prints what it says", async () => {
  const code = example("## Use it as a library");
  assert.ok(code.split("\n").length <= 30, "the example stays short");
  assert.match(await run(code), /^3 \{ count: 1 \}$/m);
});

Deno.test("the README's WebSocket agent example runs and its mirror matches", async () => {
  const stdout = await run(example("## Connect an agent over WebSocket"));
  assert.match(stdout, /^event 2 agent$/m);
  assert.match(stdout, /^event 3 patch$/m);
  assert.match(stdout, /^3 \{ notes: \[ "hello" \] \}$/m);
});

Deno.test("the coordination examples of the README and docs/coordination.md run and print what they say", async () => {
  const approvals = await run(example("## Coordinate agents and people"));
  assert.match(approvals, /^1\n\[ "Publish the report\?" \]\ndecided approve alice\n409$/m);
  assert.match(await run(example("## Durable timers", coordination)), /^tm2 \{ nudges: 1 \}$/m);
  const tasks = await run(example("## Tasks", coordination));
  assert.match(tasks, /^search scout null\n\[ "search:done", "write:ready" \]\n0\.5$/m);
  assert.match(await run(example("## Conflicts", coordination)), /^1\n1$/m);
});

Deno.test("every ts example of the README is one the tests run", () => {
  const blocks = readme.match(/```ts\n/g) ?? [];
  assert.equal(blocks.length, 3, "the library, the client and the approvals examples");
});

Deno.test("the README stays under 250 lines: the reference lives in docs/", () => {
  assert.ok(readme.split("\n").length < 250);
});
