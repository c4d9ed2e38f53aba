import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { ConflictError } from "../../src/errors.ts";
import { sessions } from "../cli/_run.ts";

Deno.test("a data directory serves one process at a time: a second opener gets a clear 409, and the lock goes with close", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-lock-" });
  try {
    const first = await createRuntime({ dataDir: dir, tickMs: 0 });
    const s = await first.create("default", { state: { n: 1 } });
    await assert.rejects(
      () => createRuntime({ dataDir: dir, tickMs: 0 }),
      (e: unknown) =>
        e instanceof ConflictError && /in use by another Denizen process/.test(e.message),
    );
    // the refused opener took nothing from the first
    assert.equal((await first.patch(s.id, [{ op: "replace", path: "/n", value: 2 }])).version, 2);

    // another process is refused too, with the reason on stderr
    const refused = await sessions(["list", "--data", dir]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /in use by another Denizen process/);

    // and so is a second server, with one line that says why
    const serve = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/serve.ts"],
      cwd: new URL("../..", import.meta.url).pathname,
      env: { DENIZEN_DATA: dir, PORT: "0", NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const serveErr = new TextDecoder().decode(serve.stderr);
    assert.equal(serve.code, 1, serveErr);
    assert.match(
      serveErr,
      /^cannot start: Data directory .* is in use by another Denizen process/m,
    );

    await first.close();
    const listed = await sessions(["list", "--data", dir, "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).items.map((x: { id: string }) => x.id), [s.id]);

    const again = await createRuntime({ dataDir: dir, tickMs: 0 });
    try {
      assert.deepEqual((await again.get(s.id)).state, { n: 2 });
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
