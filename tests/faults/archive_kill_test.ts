/**
 * Crash: the `sessions` CLI SIGKILLed at random moments in the middle of an
 * archive import, an export to a file and the archive of a completed
 * session, and `serve` in the middle of an import or an export over HTTP,
 * many times each; after each kill the data directory is opened again and
 * checked.
 */
import { internals } from "../../actors/runtime.ts";
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";
import { manifestOf, sha256 } from "../archive/_tar_helpers.ts";
import { filesUnder } from "./_faults.ts";
import {
  exists,
  exported,
  fill,
  ID,
  importMarks,
  killDuring,
  killRounds,
  ROOT,
  serve,
  source,
} from "./_kills.ts";

Deno.test("SIGKILL in the middle of `sessions import`, 10 times: after a restart the session is whole or absent (no row, no KV head, no blob, no mark), and importing again works", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-kill-import-" });
  try {
    const src = await source(root);
    const sourceManifest = await manifestOf(await Deno.readFile(src.file));
    const data = `${root}/data`;
    const blobsDir = `${data}/blobs`;
    const seen = { whole: 0, absent: 0, undone: 0 };
    const runs = await killRounds(10, async (delay) => {
      // The session's blob folder appears with the import's first write.
      const run = await killDuring(
        ["import", src.file, "--data", data],
        () => exists(`${blobsDir}/${ID}`),
        delay,
      );
      if (run.killed && await importMarks(data) > 0) seen.undone++;

      return run;
    }, async () => {
      // A new runtime on the data directory: a Denizen restarting after the kill.
      const rt = await createRuntime({ dataDir: data, tickMs: 0 });
      try {
        assert.deepEqual(
          await Array.fromAsync(internals(rt).stores.kv.list({ prefix: keys.importingAll })),
          [],
        );
        if (await internals(rt).history.getSession(ID) === undefined) {
          seen.absent++;
          await assert.rejects(() => rt.get(ID), /not found/);
          assert.deepEqual(
            await Array.fromAsync(internals(rt).stores.kv.list({ prefix: keys.session(ID) })),
            [],
          );
          assert.deepEqual(await internals(rt).history.events(ID), [], "no history");
          assert.deepEqual(await filesUnder(blobsDir), [], "no blob file");
        } else {
          seen.whole++;
          assert.deepEqual(await filesUnder(blobsDir), src.blobFiles, "its blobs, no more");
          assert.deepEqual(await manifestOf(await exported(rt, ID)), sourceManifest);
          await rt.delete(ID); // for the next run
        }
      } finally {
        await rt.close();
      }
    });
    const killed = runs.filter((r) => r.killed).length;
    console.log(
      `${runs.length} runs, ${killed} killed (${seen.undone} in the middle of the import, ` +
        `undone at the restart); ${seen.whole} whole, ${seen.absent} absent`,
    );
    assert.ok(seen.undone >= 3, "kills land in the middle of the import");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SIGKILL in the middle of `sessions export -o FILE`, 10 times: FILE is the whole archive or absent, never a partial one, and the next export clears the temporary file", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-kill-export-" });
  try {
    const src = await source(root);
    const reference = await sha256(await Deno.readFile(src.file));
    const out = `${root}/out`;
    await Deno.mkdir(out);
    const file = `${out}/${ID}.tar.gz`;
    const temp = (name: string) => name.startsWith(`${ID}.tar.gz.tmp-`);
    let partials = 0;
    const runs = await killRounds(10, async (delay) => {
      await Deno.remove(file).catch(() => {}); // so a killed run cannot pass for a whole one
      return await killDuring(
        ["export", ID, "-o", file, "--data", src.dir],
        async () => (await filesUnder(out)).some(temp),
        delay,
      );
    }, async (run) => {
      const files = await filesUnder(out);
      const temps = files.filter(temp);
      const whole = files.filter((f) => !temp(f));
      // Earlier runs' temporary files went when this one began to write; its own stays if killed.
      assert.ok(temps.length <= (run.killed ? 1 : 0), `temporary files: ${temps}`);
      partials += temps.length;
      if (!run.killed) assert.deepEqual(whole, [`${ID}.tar.gz`]);
      if (whole.length > 0) {
        assert.deepEqual(whole, [`${ID}.tar.gz`]);
        assert.equal(await sha256(await Deno.readFile(file)), reference, "the whole archive");
      }
    });
    // One more export, to the end: only the file is left, and it imports as the source session.
    const last = await killDuring(
      ["export", ID, "-o", file, "--data", src.dir],
      () => Promise.resolve(true),
      Infinity,
    );
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(await filesUnder(out), [`${ID}.tar.gz`]);
    const rt = await createRuntime({ memory: true, tickMs: 0 });
    try {
      await rt.import((await Deno.open(file)).readable);
      assert.deepEqual(
        await manifestOf(await exported(rt, ID)),
        await manifestOf(await Deno.readFile(src.file)),
      );
    } finally {
      await rt.close();
    }
    const killed = runs.filter((r) => r.killed).length;
    console.log(
      `${runs.length} runs, ${killed} killed, ${partials} of them while writing the file`,
    );
    assert.ok(partials >= 3, "kills land while the file is written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SIGKILL in the middle of `sessions archive`, 10 times: after a restart no partial archive file is left; the session is archived with its whole file, or still completed and archived by the next run", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-kill-archive-" });
  try {
    const data = `${root}/data`;
    const archives = `${data}/archives`;
    const ids = Array.from({ length: 11 }, (_, i) => `done${i}`);
    const manifests = new Map<string, unknown>();
    const rt0 = await createRuntime({ dataDir: data, tickMs: 0 });
    try {
      for (const id of ids) {
        await fill(rt0, id, 100, 2);
        await rt0.complete(id);
        manifests.set(id, await manifestOf(await exported(rt0, id)));
      }
    } finally {
      await rt0.close();
    }
    const partial = (name: string) => /\.tar\.gz\.tmp-/.test(name);
    let next = 0;
    const seen = { archived: 0, completed: 0, swept: 0, orphans: 0 };
    const runs = await killRounds(10, async (delay) => {
      return await killDuring(
        ["archive", ids[next], "--data", data],
        async () => (await filesUnder(archives)).some(partial),
        delay,
      );
    }, async () => {
      seen.swept += (await filesUnder(archives)).filter(partial).length;
      const rt = await createRuntime({ dataDir: data, tickMs: 0 });
      try {
        const files = await filesUnder(archives);
        assert.deepEqual(files.filter(partial), [], "no partial archive file after a restart");
        const id = ids[next];
        const s = await rt.get(id);
        const file = `${await Deno.realPath(archives)}/${id}.tar.gz`;
        if (s.status === "archived") {
          seen.archived++;
          assert.equal(s.archive, file);
          const bytes = await Deno.readFile(file);
          const [event] = await internals(rt).history.events(id, { after: s.version - 1 });
          assert.deepEqual(event.data, { bytes: bytes.byteLength, sha256: await sha256(bytes) });
          assert.deepEqual(await manifestOf(bytes), manifests.get(id));
          next++;
        } else {
          seen.completed++;
          assert.equal(s.status, "completed");
          // Killed after the rename, before the history write: the file is whole, and the
          // next run replaces it.
          if (files.includes(`${id}.tar.gz`)) {
            seen.orphans++;
            assert.deepEqual(await manifestOf(await Deno.readFile(file)), manifests.get(id));
          }
        }
        // Besides the files of archived sessions, at most the whole file checked above.
        const archived = new Set(ids.slice(0, next).map((i) => `${i}.tar.gz`));
        const others = files.filter((f) => !archived.has(f));
        assert.ok(others.every((f) => f === `${id}.tar.gz`), `stray files: ${others}`);
      } finally {
        await rt.close();
      }
    });
    const killed = runs.filter((r) => r.killed).length;
    console.log(
      `${runs.length} runs, ${killed} killed; ${seen.swept} partial files removed at the restart, ` +
        `${seen.orphans} whole files of a session still completed; ${seen.archived} archived`,
    );
    assert.ok(seen.swept >= 3, "kills land while the file is written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SIGKILL of `serve` in the middle of POST /v1/sessions/import and GET /v1/sessions/:id/export (the CLI with --url), 8 times: after a restart the session is whole or absent, the CLI's file whole or absent, and an acknowledged import is whole", async () => {
  const root = await Deno.makeTempDir({ prefix: "denizen-kill-serve-" });
  try {
    const src = await source(root);
    const sourceManifest = await manifestOf(await Deno.readFile(src.file));
    const data = `${root}/data`;
    const out = `${root}/out`;
    await Deno.mkdir(out);
    const file = `${out}/${ID}.tar.gz`;
    const seen = { imports: 0, exports: 0, acked: 0, undone: 0, whole: 0, absent: 0, files: 0 };
    for (let round = 0; round < 8; round++) {
      const server = await serve(data);
      const importing = round % 2 === 0;
      const cli = new Deno.Command(Deno.execPath(), {
        args: importing
          ? ["run", "-A", "cli/sessions.ts", "import", src.file, "--url", server.url]
          : ["run", "-A", "cli/sessions.ts", "export", ID, "-o", file, "--url", server.url],
        cwd: ROOT,
        env: { NO_COLOR: "1", DATABASE_URL: "", DENIZEN_TOKEN: "" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      // The import's first write makes the session's blob folder; the export's, its file.
      const started = importing
        ? () => exists(`${data}/blobs/${ID}`)
        : async () => (await filesUnder(out)).length > 0;
      let ended = false;
      cli.finally(() => ended = true).catch(() => {});
      while (!ended && !(await started())) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, Math.random() * (importing ? 400 : 100)));
      server.child.kill("SIGKILL");
      await server.child.status;
      const acked = (await cli).code === 0;
      if (await importMarks(data) > 0) seen.undone++;
      if (importing) seen.imports++;
      else seen.exports++;

      const rt = await createRuntime({ dataDir: data, tickMs: 0 });
      try {
        if (await internals(rt).history.getSession(ID) === undefined) {
          seen.absent++;
          assert.ok(!(importing && acked), "an acknowledged import is whole");
          assert.deepEqual(
            await Array.fromAsync(internals(rt).stores.kv.list({ prefix: keys.session(ID) })),
            [],
          );
          assert.deepEqual(await filesUnder(`${data}/blobs`), [], "no blob file");
          // It imports again, for the export of the next round.
          await rt.import((await Deno.open(src.file)).readable);
        } else {
          seen.whole++;
          if (importing && acked) seen.acked++;
          assert.deepEqual(await filesUnder(`${data}/blobs`), src.blobFiles);
          assert.deepEqual(await manifestOf(await exported(rt, ID)), sourceManifest);
        }
        if (!importing) {
          // The CLI saw the connection break and removed its temporary file.
          const files = await filesUnder(out);
          assert.ok(files.length === 0 || files[0] === `${ID}.tar.gz`, `files: ${files}`);
          if (files.length > 0) {
            seen.files++;
            assert.deepEqual(await manifestOf(await Deno.readFile(file)), sourceManifest);
            await Deno.remove(file);
          }
          await rt.delete(ID); // the next round imports again
        }
      } finally {
        await rt.close();
      }
    }
    console.log(
      `8 server kills: ${seen.imports} imports (${seen.undone} undone at the restart, ` +
        `${seen.acked} acknowledged), ${seen.exports} ` +
        `exports (${seen.files} whole files); ${seen.whole} whole, ${seen.absent} absent`,
    );
    assert.ok(seen.undone >= 2, "kills land in the middle of the import");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
