import assert from "node:assert/strict";

Deno.test("the README's library example runs and prints what it says", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Use it as a library"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the README has a ts example");
  assert.ok(code.split("\n").length <= 30, "the example stays short");
  const file = new URL("../_readme_example_test_tmp.ts", import.meta.url);
  await Deno.writeTextFile(file, code);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /^3 \{ count: 1 \}$/m);
  } finally {
    await Deno.remove(file);
  }
});
