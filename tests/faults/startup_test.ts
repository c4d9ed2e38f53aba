/**
 * Fault 7: start-up on damaged files. `deno task serve` refuses with one
 * line that names the file and says what to do, and exit code 1; never a
 * stack trace. Moving a damaged history aside, as the line says, starts it
 * with the live sessions of KV. One session whose KV head is garbage stops
 * neither the start nor the others.
 */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";

const config = new URL("../../deno.json", import.meta.url).pathname;
const serve = new URL("../../cli/serve.ts", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A data directory with two active sessions, `good` and `bad`, and some history. */
async function dataDir(): Promise<string> {
  const dir = await Deno.makeTempDir();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0 });
  for (const id of ["good", "bad"]) {
    await rt.create("default", { id, state: { n: 1 } });
    for (let i = 0; i < 30; i++) await rt.addMessage(id, { role: "user", content: `m${i}` });
  }
  await rt.close();
  return dir;
}

/** Overwrites the start of `path` (its SQLite header and more) with garbage. */
async function garble(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes.set(crypto.getRandomValues(new Uint8Array(4096)));
  await Deno.writeFile(path, bytes);
}

/** Cuts `path` to half its size, on a page boundary. */
async function truncate(path: string): Promise<void> {
  const { size } = await Deno.stat(path);
  await Deno.truncate(path, Math.floor(size / 2 / 4096) * 4096);
}

/** A server child: ready (listening) or ended (with its code); stdout and stderr as text. */
interface Served {
  port: number;
  code?: number;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Runs `deno task serve` on `dir` (with `env` on top) until it listens or exits. */
async function start(dir: string, env: Record<string, string> = {}): Promise<Served> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, serve],
    // History in the data directory, whatever this process's DATABASE_URL says.
    env: {
      PORT: String(port),
      DENIZEN_DATA: dir,
      DATABASE_URL: "",
      DENIZEN_TOKEN: "",
      NO_COLOR: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const { promise: listening, resolve } = Promise.withResolvers<void>();
  const read = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      add(chunk);
      if (out.includes("listening")) resolve();
    }
  };
  const reading = Promise.all([
    read(child.stdout, (s) => out += s),
    read(child.stderr, (s) => err += s),
  ]);
  const ended = child.status.then(async (s) => {
    await reading;
    return s.code;
  });
  const code = await Promise.race([listening.then(() => undefined), ended]);
  return {
    port,
    code,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (code !== undefined) return;
      child.kill("SIGTERM");
      await ended;
    },
  };
}

/** Asserts a refusal: exit 1 and one line on stderr matching `line`, without a stack trace. */
function assertRefused(s: Served, line: RegExp): void {
  assert.equal(s.code, 1, `exit code; stderr: ${s.stderr()}`);
  const lines = s.stderr().trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, not:\n${s.stderr()}`);
  assert.match(lines[0], line);
  assert.doesNotMatch(s.stderr(), /^\s+at /m, "no stack trace");
}

Deno.test("serve refuses a damaged history file with one actionable line, and starts once it is moved aside", async () => {
  const dir = await dataDir();
  try {
    const history = `${dir}/history.sqlite3`;
    const original = await Deno.readFile(history);
    await garble(history);
    assertRefused(
      await start(dir),
      /^cannot start: History file '.*\/history\.sqlite3' is not a SQLite database \(file is not a database\); move it aside to start with an empty history \(the live sessions in KV are kept\), or restore it from a backup$/,
    );
    await Deno.writeFile(history, original);
    await truncate(history);
    assertRefused(
      await start(dir),
      /^cannot start: History file '.*\/history\.sqlite3' is damaged \(truncated or overwritten\) \(database disk image is malformed\); move it aside/,
    );
    // Do as it says: the server starts, and the live sessions are still served from KV.
    await Deno.rename(history, `${history}.damaged`);
    const s = await start(dir);
    try {
      assert.equal(s.code, undefined, s.stderr());
      const res = await fetch(`http://127.0.0.1:${s.port}/v1/sessions/good`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).version, 31);
    } finally {
      await s.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve refuses a damaged KV file with one actionable line", async () => {
  const dir = await dataDir();
  try {
    const kv = `${dir}/kv.sqlite3`;
    const original = await Deno.readFile(kv);
    await garble(kv);
    assertRefused(
      await start(dir),
      /^cannot start: KV file '.*\/kv\.sqlite3' is not a SQLite database \(file is not a database\); restore it from a backup, or move it aside to start without the live sessions it holds \(the history in '.*\/history\.sqlite3' is kept\)$/,
    );
    await Deno.writeFile(kv, original);
    await truncate(kv);
    assertRefused(
      await start(dir),
      /^cannot start: KV file '.*\/kv\.sqlite3' is damaged \(truncated or overwritten\) \(database disk image is malformed\); restore it from a backup/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve starts with one session's KV head garbage: the others are served and the list works", async () => {
  const dir = await dataDir();
  try {
    const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
    await kv.set(keys.head("bad"), new TextEncoder().encode("{garbage"));
    kv.close();
    const s = await start(dir);
    try {
      assert.equal(s.code, undefined, `it starts; stderr: ${s.stderr()}`);
      const base = `http://127.0.0.1:${s.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const list = await (await fetch(`${base}/v1/sessions`)).json();
      assert.deepEqual(list.items.map((i: { id: string }) => i.id).sort(), ["bad", "good"]);
      const good = await fetch(`${base}/v1/sessions/good/messages`, {
        method: "POST",
        body: JSON.stringify({ role: "user", content: "still here" }),
      });
      assert.equal(good.status, 201);
      await good.body?.cancel();
      const bad = await fetch(`${base}/v1/sessions/bad`);
      assert.notEqual(bad.status, 200);
      await bad.body?.cancel();
    } finally {
      await s.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve refuses an unreachable DATABASE_URL with one actionable line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const url = `postgres://denizen:secret@127.0.0.1:${freePort()}/nowhere`;
    assertRefused(
      await start(dir, { DATABASE_URL: url }),
      /^cannot start: History database 'postgres:\/\/denizen:\*\*\*@127\.0\.0\.1:\d+\/nowhere' cannot be opened \(.*ECONNREFUSED.*\); check that PostgreSQL is running and that DATABASE_URL is right$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
