import assert from "node:assert/strict";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** The first ts block after `heading`. */
function example(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, `the README has a ts example under ${heading}`);
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

Deno.test("the README's coordination examples run and print what they say", async () => {
  assert.match(await run(example("### Durable timers")), /^tm2 \{ nudges: 1 \}$/m);
  const approvals = await run(example("### Approvals: a person in the loop"));
  assert.match(approvals, /^1\n\[ "Publish the report\?" \]\ndecided approve alice\n409$/m);
  const tasks = await run(example("### Tasks: a plan that agents share"));
  assert.match(tasks, /^search scout null\n\[ "search:done", "write:ready" \]\n0\.5$/m);
  assert.match(await run(example("### Conflicts between findings")), /^1\n1$/m);
});
