import assert from "node:assert/strict";
import { seed, sessions, tempData } from "./_run.ts";

const DAY = 86_400_000;

Deno.test("export -o → import into another data directory gives the same session and archive", async () => {
  const [from, doneFrom] = await tempData();
  const [to, doneTo] = await tempData();
  try {
    await seed(from, async (rt) => {
      await rt.create("default", { id: "s1", name: "moved", state: { n: 1 } });
      await rt.addMessage("s1", { role: "user", content: "hello" });
      await rt.addResult("s1", { key: "big", data: "x".repeat(1_100_000) });
      await rt.pause("s1");
    });
    const file = `${from}/s1.tar.gz`;
    const exported = await sessions(["export", "s1", "-o", file, "--data", from, "--json"]);
    assert.equal(exported.code, 0, exported.stderr);
    const info = JSON.parse(exported.stdout);
    assert.deepStrictEqual(info, { id: "s1", file, bytes: (await Deno.stat(file)).size });
    const imported = await sessions(["import", file, "--data", to, "--json"]);
    assert.equal(imported.code, 0, imported.stderr);
    const original = JSON.parse((await sessions(["show", "s1", "--data", from, "--json"])).stdout);
    assert.deepStrictEqual(JSON.parse(imported.stdout), original);
    const again = await sessions(["export", "s1", "--data", to]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepStrictEqual(again.bytes, await Deno.readFile(file));
    const twice = await sessions(["import", file, "--data", to]);
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "error: Session 's1' already exists\n");
  } finally {
    await doneFrom();
    await doneTo();
  }
});

Deno.test("archive writes the file and marks the session archived; an active one exits 1 with 409's message", async () => {
  const [data, done] = await tempData();
  try {
    await seed(data, async (rt) => {
      await rt.create("default", { id: "live" });
      await rt.create("default", { id: "over" });
      await rt.complete("over");
    });
    const r = await sessions(["archive", "over", "--data", data, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.status, "archived");
    assert.equal(s.archive, await Deno.realPath(`${data}/archives/over.tar.gz`));
    const listed = await sessions(["list", "--status", "archived", "--data", data, "--json"]);
    assert.deepStrictEqual(
      JSON.parse(listed.stdout).items.map((i: { archive: string }) => i.archive),
      [
        s.archive,
      ],
    );
    const refused = await sessions(["archive", "live", "--data", data]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "error: Cannot archive session 'live': it is active\n");
  } finally {
    await done();
  }
});

Deno.test("cleanup deletes old terminal sessions but keeps the newest completed, with a progress bar", async () => {
  const [data, done] = await tempData();
  try {
    const long = Date.now() - 90 * DAY;
    await seed(data, async (rt) => {
      for (const id of ["c1", "c2", "c3"]) {
        await rt.create("default", { id });
        await rt.complete(id);
      }
      await rt.create("default", { id: "f1" });
      await rt.fail("f1", "broke");
      await rt.create("default", { id: "a1" });
    }, long);
    await seed(data, async (rt) => {
      await rt.create("default", { id: "f2" });
      await rt.fail("f2", "broke too");
    });
    const dry = await sessions(["cleanup", "--keep", "1", "--dry-run", "--data", data, "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepStrictEqual(JSON.parse(dry.stdout), { candidates: ["c1", "c2", "f1"], failed: [] });
    const r = await sessions([
      "cleanup",
      "--older-than",
      "30d",
      "--keep",
      "1",
      "--progress",
      "--data",
      data,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), { deleted: ["c1", "c2", "f1"], failed: [] });
    assert.match(r.stderr, /Deleting \[#{24}\] 3\/3/);
    const failed = await sessions(["cleanup", "--failed", "--data", data]);
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal(failed.stdout, "deleted f2\n1 deleted, 0 failed\n");
    const left = await sessions(["list", "--data", data, "--json"]);
    const ids = JSON.parse(left.stdout).items.map((s: { id: string }) => s.id).sort();
    assert.deepStrictEqual(ids, ["a1", "c3"]);
  } finally {
    await done();
  }
});
