import assert from "node:assert/strict";
import { ManualClock } from "../../mod.ts";
import { env, sessions, tempData, withServer } from "./_run.ts";

Deno.test("--url works through the HTTP API with DENIZEN_TOKEN, and without it exits 1 with the 401", async () => {
  await withServer(async (url, rt) => {
    await rt.create("default", { id: "remote", name: "Remote" });
    const listed = await sessions(["list", "--url", url, "--json"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepStrictEqual(JSON.parse(listed.stdout).items.map((s: { id: string }) => s.id), [
      "remote",
    ]);
    const paused = await sessions(["pause", "remote", "--url", url], { env });
    assert.deepStrictEqual([paused.code, paused.stdout], [
      0,
      "Session 'remote' is paused (version 3)\n",
    ]);
    const missing = await sessions(["show", "nope", "--url", url], { env });
    assert.deepStrictEqual([missing.code, missing.stderr], [
      4,
      "error: Session 'nope' not found\n",
    ]);
    const anonymous = await sessions(["list", "--url", url], { env: { DENIZEN_TOKEN: "" } });
    assert.deepStrictEqual([anonymous.code, anonymous.stderr], [
      1,
      "error: Missing or invalid bearer token\n",
    ]);
  });
});

Deno.test("export from a server and import into a data directory, and back again", async () => {
  const [data, done] = await tempData();
  try {
    await withServer(async (url, rt) => {
      await rt.create("default", { id: "trip", state: { n: 1 } });
      await rt.addResult("trip", { key: "big", data: "z".repeat(1_100_000) });
      await rt.complete("trip");
      const file = `${data}/trip.tar.gz`;
      const exported = await sessions(["export", "trip", "-o", file, "--url", url], { env });
      assert.equal(exported.code, 0, exported.stderr);
      const imported = await sessions(["import", file, "--data", `${data}/d`, "--json"]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.deepStrictEqual(JSON.parse(imported.stdout), await rt.get("trip"));
      await rt.delete("trip");
      const back = await sessions(["import", file, "--url", url, "--json"], { env });
      assert.equal(back.code, 0, back.stderr);
      assert.equal(JSON.parse(back.stdout).status, "completed");
      const archived = await sessions(["archive", "--all-terminal", "--url", url, "--json"], {
        env,
      });
      assert.equal(archived.code, 0, archived.stderr);
      assert.deepStrictEqual(
        JSON.parse(archived.stdout).archived.map((a: { id: string }) => a.id),
        [
          "trip",
        ],
      );
    });
  } finally {
    await done();
  }
});

Deno.test("cleanup over HTTP takes the server's selection (POST /v1/cleanup dryRun), then deletes one session at a time; --dry-run deletes nothing", async () => {
  const clock = new ManualClock(Date.now() - 90 * 86_400_000);
  await withServer(async (url, rt) => {
    for (const id of ["c1", "c2"]) {
      await rt.create("default", { id });
      await rt.complete(id);
    }
    await rt.create("default", { id: "a1" });
    clock.advance(90 * 86_400_000);
    const ids = async () => (await rt.list()).items.map((s) => s.id).sort();
    const dry = await sessions(["cleanup", "--keep", "1", "--dry-run", "--url", url, "--json"], {
      env,
    });
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepStrictEqual(JSON.parse(dry.stdout), { candidates: ["c1"], failed: [] });
    assert.deepStrictEqual(await ids(), ["a1", "c1", "c2"]);
    const text = await sessions(["cleanup", "--keep", "1", "--dry-run", "--url", url], { env });
    assert.deepStrictEqual([text.code, text.stdout], [
      0,
      "would delete c1\n1 candidates, 0 failed\n",
    ]);
    const r = await sessions(["cleanup", "--keep", "1", "--url", url, "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), { deleted: ["c1"], failed: [] });
    assert.deepStrictEqual(await ids(), ["a1", "c2"]);
  }, clock);
});
