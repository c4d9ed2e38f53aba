import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { internals, type Runtime } from "../../actors/runtime.ts";
import { build, exported, memoryRuntime, type Script } from "./_session_scripts.ts";
import { seal } from "./_fixtures.ts";
import { entriesOf, gzip, streamOf, tarGzOf, tarOf } from "./_tar_helpers.ts";

const WITH_BLOB: Script = {
  name: "with a blob",
  tags: ["a"],
  steps: [
    { t: "message", role: "user", content: "hello" },
    { t: "big", key: "report", fill: "r" },
    { t: "result", key: "draft", data: { ok: true }, partial: true },
    { t: "checkpoint", label: "mid" },
  ],
  end: "completed",
};

async function request(
  rt: Runtime,
  method: string,
  path: string,
  body?: Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await rt.app.request(path, {
    method,
    body: body && new Uint8Array(body),
    headers,
  });
}

/** Nothing of any session is left: no listed session, no blob, no history row of `id`. */
async function assertEmpty(rt: Runtime, id: string): Promise<void> {
  assert.deepStrictEqual((await rt.list()).items, []);
  assert.deepStrictEqual(await internals(rt).stores.blobs.list(""), []);
  assert.equal(await internals(rt).history.getSession(id), undefined);
  assert.equal(await internals(rt).history.lastSeq(id), 0);
}

Deno.test("import of an id that exists, hot or cold, fails with 409 and changes nothing", async () => {
  const rt = await memoryRuntime();
  try {
    for (const end of ["active", "completed"] as const) {
      const s = await build(rt, { ...WITH_BLOB, end });
      const archive = await exported(rt, s.id);
      const blobs = await internals(rt).stores.blobs.list("");
      await assert.rejects(() => rt.import(streamOf(archive)), { status: 409 });
      assert.deepStrictEqual(await rt.get(s.id), s);
      assert.deepStrictEqual(await internals(rt).stores.blobs.list(""), blobs);
      const res = await request(rt, "POST", "/v1/sessions/import", archive);
      assert.equal(res.status, 409);
      assert.equal((await res.json()).error.code, "conflict");
    }
  } finally {
    await rt.close();
  }
});

Deno.test("export and import over HTTP: streamed gzip with the id in content-disposition, then 201", async () => {
  const source = await memoryRuntime();
  const target = await memoryRuntime();
  try {
    const s = await build(source, WITH_BLOB);
    const res = await request(source, "GET", `/v1/sessions/${s.id}/export`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/gzip");
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="${s.id}.tar.gz"`);
    const archive = new Uint8Array(await res.arrayBuffer());
    const created = await request(target, "POST", "/v1/sessions/import", archive);
    assert.equal(created.status, 201);
    assert.deepStrictEqual(await created.json(), s);
    assert.deepStrictEqual(await exported(target, s.id), archive);
    const missing = await request(source, "GET", "/v1/sessions/nope/export");
    assert.equal(missing.status, 404);
  } finally {
    await source.close();
    await target.close();
  }
});

Deno.test("import and export still need the bearer token when one is configured", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0, token: "secret" });
  try {
    const s = await rt.create("default", {});
    const archive = await exported(rt, s.id);
    assert.equal((await request(rt, "POST", "/v1/sessions/import", archive)).status, 401);
    assert.equal((await request(rt, "GET", `/v1/sessions/${s.id}/export`)).status, 401);
    const ok = await request(rt, "GET", `/v1/sessions/${s.id}/export`, undefined, {
      Authorization: "Bearer secret",
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await rt.close();
  }
});

Deno.test("a hostile archive over HTTP is refused with 400 or 413 and leaves no session and no blob", async () => {
  const source = await memoryRuntime();
  const s = await build(source, WITH_BLOB);
  const good = await exported(source, s.id);
  await source.close();
  const entries = await entriesOf(good);
  const retar = (change: (e: (typeof entries)[number]) => (typeof entries)[number]) =>
    tarGzOf(entries.map(change));
  const blobEntry = entries.find((e) => e.name.startsWith("blobs/"))!;
  const cases: [string, Uint8Array, number][] = [
    ["a traversal path", await tarGzOf([...entries, { name: "../evil", body: "x" }]), 400],
    [
      "a symlink",
      await tarGzOf([{ name: "blobs/x", type: "symlink", linkname: "/etc/passwd" }]),
      400,
    ],
    [
      "a tampered blob",
      await retar((
        e,
      ) => (e === blobEntry
        ? { ...e, body: new Uint8Array((e.body as Uint8Array).byteLength) }
        : e)
      ),
      400,
    ],
    ["a truncated gzip", good.subarray(0, good.byteLength - 40), 400],
    ["not gzip at all", await tarOf(entries), 400],
    [
      "a blob over 64 MiB",
      await gzip(await tarOf([{ name: "blobs/big", body: new Uint8Array(65 * 1024 * 1024) }])),
      413,
    ],
  ];
  for (const [what, body, status] of cases) {
    const rt = await memoryRuntime();
    try {
      const res = await request(rt, "POST", "/v1/sessions/import", body);
      assert.equal(res.status, status, what);
      assert.match((await res.json()).error.message, /Archive/, what);
      await assertEmpty(rt, s.id);
    } finally {
      await rt.close();
    }
  }
});

Deno.test("an archive whose rows disagree with its events is refused before anything is written", async () => {
  const source = await memoryRuntime();
  const s = await build(source, WITH_BLOB);
  const entries = await entriesOf(await exported(source, s.id));
  await source.close();
  const forged = entries.filter((e) => e.name !== "manifest.json").map((e) =>
    e.name === "messages.jsonl"
      ? { ...e, body: new TextDecoder().decode(e.body as Uint8Array).replace("hello", "forged") }
      : e
  );
  const sealed = await seal(forged, s.id);
  const rt = await memoryRuntime();
  try {
    await assert.rejects(() => rt.import(streamOf(sealed)), {
      status: 400,
      message: /messages\.jsonl does not match/,
    });
    await assertEmpty(rt, s.id);
  } finally {
    await rt.close();
  }
});

Deno.test("a history write that fails during import removes the blobs already written", async () => {
  const source = await memoryRuntime();
  const s = await build(source, WITH_BLOB);
  const archive = await exported(source, s.id);
  await source.close();
  const rt = await memoryRuntime();
  try {
    internals(rt).history.write = () => Promise.reject(new Error("disk full"));
    await assert.rejects(() => rt.import(streamOf(archive)), /disk full/);
    await assertEmpty(rt, s.id);
  } finally {
    await rt.close();
  }
});

Deno.test("archive() writes the file, records status archived with its location, and stays listed", async () => {
  const dataDir = await Deno.makeTempDir();
  const rt = await createRuntime({ dataDir, tickMs: 0 });
  try {
    const s = await build(rt, WITH_BLOB);
    const archived = await rt.archive(s.id);
    const path = await Deno.realPath(`${dataDir}/archives/${s.id}.tar.gz`);
    assert.equal(archived.status, "archived");
    assert.equal(archived.archive, path);
    assert.equal(archived.version, s.version + 1);
    const [event] = await rt.events(s.id, { after: s.version });
    assert.equal(event.type, "archived");
    assert.equal((event.data as { bytes: number }).bytes, (await Deno.stat(path)).size);
    const listed = await rt.list({ status: "archived" });
    assert.deepStrictEqual(listed.items.map((i) => [i.id, i.archive]), [[s.id, path]]);
    const elsewhere = await memoryRuntime();
    try {
      const file = await Deno.open(path);
      assert.deepStrictEqual(await elsewhere.import(file.readable), s);
    } finally {
      await elsewhere.close();
    }
    await assert.rejects(() => rt.archive(s.id), {
      status: 409,
      message: `Cannot archive session '${s.id}': it is archived`,
    });
    await rt.delete(s.id);
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await rt.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("archive of an active or paused session fails with 409 naming the status, over HTTP too", async () => {
  const rt = await memoryRuntime();
  try {
    for (const end of ["active", "paused"] as const) {
      const s = await build(rt, { ...WITH_BLOB, end });
      await assert.rejects(() => rt.archive(s.id), {
        status: 409,
        message: `Cannot archive session '${s.id}': it is ${end}`,
      });
      const res = await request(rt, "POST", `/v1/sessions/${s.id}/archive`);
      assert.equal(res.status, 409);
      assert.deepStrictEqual(await rt.get(s.id), s);
    }
    const done = await build(rt, WITH_BLOB);
    const res = await request(rt, "POST", `/v1/sessions/${done.id}/archive`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "archived");
    assert.match(body.archive, new RegExp(`/${done.id}\\.tar\\.gz$`));
  } finally {
    await rt.close();
  }
});
