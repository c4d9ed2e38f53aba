/**
 * Fault 4: the disk fills up under blobs (results over 1 MiB, outbox entries
 * too large for KV) and under archives. A full disk is a 503 (`unavailable`,
 * which SPEC §4 lists for a store that cannot serve and clients retry),
 * leaves nothing behind, and the same call succeeds once there is space.
 */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { UnavailableError } from "../../src/errors.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";
import { call } from "../routes/_fixtures.ts";
import {
  assertHistoryComplete,
  faultRuntime,
  faultyKv,
  filesUnder,
  fullDisk,
  tally,
} from "./_faults.ts";

/** `bytes` characters of random text, which gzip shrinks little, so its blob is large on disk too. */
function incompressible(bytes: number): string {
  const alphabet = new TextEncoder().encode(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
  );
  const raw = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(raw.subarray(i, i + 65_536));
  for (let i = 0; i < bytes; i++) raw[i] = alphabet[raw[i] & 63];
  return new TextDecoder().decode(raw);
}

async function withDataDir(fn: (rt: Runtime, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [tally] });
  try {
    await fn(rt, dir);
  } finally {
    await rt.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function assertDiskFull(error: unknown): true {
  assert.ok(error instanceof UnavailableError, String(error));
  assert.equal(error.status, 503);
  assert.match(
    error.message,
    /No space left to write .* \(ENOSPC\); free some disk space and retry/,
  );
  return true;
}

Deno.test("a result over 1 MiB on a full disk answers 503 and leaves no result and no blob file; the same call succeeds once space is back", () =>
  withDataDir(async (rt, dir) => {
    const s = await rt.create("tally", { id: "s1" });
    const data = { text: incompressible(1_200_000) };
    const disk = fullDisk(`${dir}/blobs`, 64 * 1024); // room for part of the file
    try {
      await assert.rejects(rt.addResult(s.id, { key: "big", data }), assertDiskFull);
      const res = await call(rt, "POST", "/v1/sessions/s1/results", { body: { key: "big", data } });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "unavailable");
      assert.ok(disk.refused >= 1);
    } finally {
      disk.restore();
    }
    assert.equal((await rt.get(s.id)).version, 1, "no result event");
    assert.deepEqual(await rt.results(s.id), []);
    assert.deepEqual(await filesUnder(`${dir}/blobs`), [], "no blob, no temporary file");

    assert.equal((await rt.addResult(s.id, { key: "big", data })).version, 2);
    const res = await call(rt, "POST", "/v1/sessions/s1/results", { body: { key: "big", data } });
    assert.equal(res.status, 201);
    const results = await rt.results(s.id);
    assert.equal(results.length, 2);
    for (const r of results) assert.deepEqual(r.data, data);
    assert.equal((await filesUnder(`${dir}/blobs`)).length, 2);
    await assertHistoryComplete(rt, s.id);
  }));

Deno.test("an event too large for a KV value on a full disk answers 503 and commits nothing; once space is back it commits and its blob goes once drained", () =>
  withDataDir(async (rt, dir) => {
    const s = await rt.create("tally", { id: "s1" });
    await rt.flush();
    const content = incompressible(200_000); // over one KV value: the outbox entry spills to a blob
    const disk = fullDisk(`${dir}/blobs`);
    try {
      await assert.rejects(rt.addMessage(s.id, { role: "user", content }), assertDiskFull);
      const res = await call(rt, "POST", "/v1/sessions/s1/messages", {
        body: { role: "user", content },
      });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "unavailable");
    } finally {
      disk.restore();
    }
    assert.equal((await rt.get(s.id)).version, 1);
    assert.deepEqual(await filesUnder(`${dir}/blobs`), []);

    assert.equal((await rt.addMessage(s.id, { role: "user", content })).version, 2);
    await assertHistoryComplete(rt, s.id);
    assert.equal((await rt.messages(s.id))[0].content, content);
    assert.deepEqual(
      await filesUnder(`${dir}/blobs`),
      [],
      "the spilled entry's blob is deleted once in SQL",
    );
  }));

Deno.test("archive on a full disk answers 503 and leaves no archive file, whole or partial, and the session completed; the same call succeeds once space is back", () =>
  withDataDir(async (rt, dir) => {
    const s = await rt.create("tally", { id: "s1" });
    for (let i = 0; i < 20; i++) await rt.action(s.id, "add", { tag: incompressible(2_000) });
    await rt.complete(s.id, { done: true });
    const disk = fullDisk(`${dir}/archives`, 4_096); // part of the file fits
    try {
      await assert.rejects(rt.archive(s.id), assertDiskFull);
      const res = await call(rt, "POST", "/v1/sessions/s1/archive", { body: {} });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "unavailable");
      assert.ok(disk.refused >= 2);
    } finally {
      disk.restore();
    }
    assert.deepEqual(await filesUnder(`${dir}/archives`), [], "no archive, no temporary file");
    const completed = await rt.get(s.id);
    assert.equal(completed.status, "completed");
    assert.equal(completed.archive, undefined);
    assert.equal(await internals(rt).history.lastSeq(s.id), completed.version);

    const res = await call(rt, "POST", "/v1/sessions/s1/archive", { body: {} });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "archived");
    assert.deepEqual(await filesUnder(`${dir}/archives`), ["s1.tar.gz"]);
    const events = await rt.events(s.id, { limit: 1000 });
    const archived = events.at(-1)!;
    assert.equal(archived.type, "archived");
    assert.equal(
      (archived.data as { bytes: number }).bytes,
      (await Deno.stat(`${dir}/archives/s1.tar.gz`)).size,
    );
  }));

Deno.test({
  name: "a result over 1 MiB whose KV commit fails leaves no blob behind",
  async fn() {
    const real = await Deno.openKv(":memory:");
    const f = faultyKv(real);
    const rt = await faultRuntime({ kv: f.kv });
    try {
      const s = await rt.create("tally");
      f.fault = "throw";
      await assert.rejects(
        rt.addResult(s.id, { key: "big", data: incompressible(1_200_000) }),
        UnavailableError,
      );
      assert.deepEqual(await internals(rt).stores.blobs.list(`${s.id}/`), [], "no stray blob");
    } finally {
      await rt.close();
      real.close();
    }
  },
});
