/**
 * Kills for the crash tests: a big session to move around, runs of the
 * `sessions` CLI and of `serve` in child processes, SIGKILLed at a chosen
 * moment, and what to look at afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createRuntime, type Runtime } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";
import { collect } from "../archive/_tar_helpers.ts";
import { filesUnder } from "./_faults.ts";

/** The repository, where the children run. */
export const ROOT = new URL("../../", import.meta.url).pathname;
/** The id of the big session. */
export const ID = "big";

/** Random text of `bytes` characters: results over 1 MiB go to the blob store. */
function noise(bytes: number): string {
  const raw = new Uint8Array(Math.ceil(bytes * 3 / 4));
  for (let at = 0; at < raw.length; at += 65_536) {
    crypto.getRandomValues(raw.subarray(at, at + 65_536));
  }
  return Buffer.from(raw).toString("base64").slice(0, bytes);
}

/** Fills session `id` of `rt` with `patches` patches, 200 messages, and 30 results of which `blobs` go to the blob store. */
export async function fill(rt: Runtime, id: string, patches: number, blobs: number): Promise<void> {
  await rt.create("default", { id, state: { log: [] } });
  for (let i = 0; i < patches; i += 50) {
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, j) => rt.patch(id, [{ op: "add", path: "/log/-", value: `p${i + j}` }]),
      ),
    );
  }
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => rt.addMessage(id, { role: "user", content: `m${i}` })),
  );
  for (let i = 0; i < 30; i++) {
    const data = i < blobs ? noise(1024 * 1024 + 1_000) : { i };
    await rt.addResult(id, { agent: "a", key: `r${i}`, data });
  }
}

/** The archive of `id`, as bytes. */
export async function exported(rt: Runtime, id: string): Promise<Uint8Array> {
  return await collect(await rt.export(id));
}

/** How a run of the CLI ended. */
export interface Run {
  killed: boolean;
  code: number;
  stderr: string;
  /** Milliseconds from the moment `started()` held to the end (the kill, or the exit). */
  ranMs: number;
}

/**
 * A run of the CLI, SIGKILLed `delayMs` after `started()` first holds,
 * unless it ends first (an infinite delay lets it end).
 */
export async function killDuring(
  args: string[],
  started: () => Promise<boolean>,
  delayMs: number,
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/sessions.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DATABASE_URL: "" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let ended = false;
  output.finally(() => ended = true).catch(() => {});
  while (!ended && !(await started())) await new Promise((r) => setTimeout(r, 2));
  const from = performance.now();
  if (!ended && Number.isFinite(delayMs)) await new Promise((r) => setTimeout(r, delayMs));
  if (!ended && Number.isFinite(delayMs)) {
    try {
      child.kill("SIGKILL");
    } catch { /* it ended meanwhile */ }
  }
  const out = await output;
  return {
    ranMs: performance.now() - from,
    killed: out.signal === "SIGKILL",
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Whether anything exists at `path`. */
export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The marks of imports in progress in the KV file of data directory `dir`, read without a runtime. */
export async function importMarks(dir: string): Promise<number> {
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  try {
    return (await Array.fromAsync(kv.list({ prefix: keys.importingAll }))).length;
  } finally {
    kv.close();
  }
}

/**
 * Runs the CLI once to the end (which says how long its work lasts after
 * `started`), then `kills` more times, each killed after a delay spread over
 * that time. `check` looks at the data after each run.
 */
export async function killRounds(
  kills: number,
  run: (delayMs: number) => Promise<Run>,
  check: (run: Run) => Promise<void>,
): Promise<Run[]> {
  const whole = await run(Infinity);
  assert.equal(whole.code, 0, whole.stderr);
  await check(whole);
  const runs = [whole];
  const delays = Array.from({ length: kills }, (_, i) => (i + Math.random()) * whole.ranMs / kills);
  for (const delay of delays.sort(() => Math.random() - 0.5)) {
    const next = await run(delay);
    if (!next.killed) assert.equal(next.code, 0, next.stderr);
    await check(next);
    runs.push(next);
  }
  return runs;
}

/** The source: session `big` (active, 600 patches, 4 blobs) in data directory `<root>/source`, its archive file, and its blob files. */
export async function source(
  root: string,
): Promise<{ dir: string; file: string; blobFiles: string[] }> {
  const dir = `${root}/source`;
  const rt = await createRuntime({ dataDir: dir, tickMs: 0 });
  try {
    await fill(rt, ID, 600, 4);
    const file = `${root}/source.tar.gz`;
    await Deno.writeFile(file, await exported(rt, ID));
    return { dir, file, blobFiles: await filesUnder(`${dir}/blobs`) };
  } finally {
    await rt.close();
  }
}

/** `serve` on data directory `dir`, on a port the system picks; resolves once it listens. */
export async function serve(dir: string): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/serve.ts"],
    cwd: ROOT,
    env: { PORT: "0", DENIZEN_DATA: dir, DENIZEN_TOKEN: "", DATABASE_URL: "", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`serve ended before it listened: ${text}`);
    text += value;
    const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
    if (url) {
      (async () => { // keep reading, so that its prints never block it
        while (!(await lines.read()).done) { /* discard */ }
      })().catch(() => {});
      return { url, child };
    }
  }
}
