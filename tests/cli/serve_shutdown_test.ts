import assert from "node:assert/strict";
import { connect, type DenizenClient } from "../../client.ts";

const config = new URL("../../deno.json", import.meta.url).pathname;
const serve = new URL("../../cli/serve.ts", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** `deno task serve` as a child on `port` and `dir`, once it listens; its stdout is collected. */
async function start(
  port: number,
  dir: string,
): Promise<{ child: Deno.ChildProcess; out: string[] }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, serve],
    env: { PORT: String(port), DENIZEN_DATA: dir, DENIZEN_SHUTDOWN_MS: "10000", DATABASE_URL: "" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out: string[] = [];
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  const { promise: ready, resolve: listening } = Promise.withResolvers<void>();
  (async () => {
    for await (const chunk of lines) {
      out.push(chunk);
      if (out.join("").includes("listening")) listening();
    }
  })();
  await ready;
  return { child, out };
}

Deno.test("SIGTERM under load: in-flight commands are acked and durable, sockets close with 4503, clients reconnect and lose nothing", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  let server = await start(port, dir);
  const clients: DenizenClient[] = [];
  try {
    const res = await fetch(`${base}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "s1", state: { a: [], b: [], c: [] } }),
    });
    assert.equal(res.status, 201);
    const closes: number[] = [];
    for (const name of ["a", "b", "c"]) {
      const c = await connect(`${base}/v1/sessions/s1/ws`, {
        agent: name,
        initialDelayMs: 50,
        maxDelayMs: 200,
        staleMs: 0,
      });
      c.on("close", (e) => closes.push(e.code));
      clients.push(c);
    }
    const acked = new Map<string, number[]>([["a", []], ["b", []], ["c", []]]);
    let sending = true;
    const senders = clients.map((c, i) =>
      (async () => {
        const name = ["a", "b", "c"][i];
        for (let n = 0; sending; n++) {
          const batch = Array.from({ length: 8 }, (_, k) => n * 8 + k);
          await Promise.all(batch.map(async (v) => {
            await c.patch([{ op: "add", path: `/${name}/-`, value: v }], { id: `${name}-${v}` });
            acked.get(name)!.push(v);
          }));
          if (n === 30) await new Promise((r) => setTimeout(r, 1));
        }
      })().catch((e) => e as Error)
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = [...acked.values()].reduce((n, xs) => n + xs.length, 0);
    assert.ok(before > 0, "load is running");

    const t0 = performance.now();
    server.child.kill("SIGTERM");
    const status = await server.child.status;
    const took = performance.now() - t0;
    assert.equal(status.code, 0, server.out.join(""));
    assert.ok(took < 10_000, `stopped within its bound (${took.toFixed(0)} ms)`);
    assert.match(server.out.join(""), /stopped in \d+ ms/);
    assert.ok(
      closes.includes(4503),
      `sockets closed with 4503, saw ${closes}; server: ${server.out.join("")}`,
    );
    const ackedAtStop = new Map([...acked].map(([k, v]) => [k, [...v]]));

    server = await start(port, dir);
    await new Promise((r) => setTimeout(r, 500));
    sending = false;
    for (const e of await Promise.all(senders)) assert.equal(e, undefined, String(e));

    const session = await (await fetch(`${base}/v1/sessions/s1`)).json();
    for (const [name, values] of acked) {
      const state = session.state[name] as number[];
      assert.equal(new Set(state).size, state.length, `${name}: nothing applied twice`);
      for (const v of ackedAtStop.get(name)!) {
        assert.ok(state.includes(v), `${name}-${v} was acked before the stop and is durable`);
      }
      for (const v of values) assert.ok(state.includes(v), `${name}-${v} acked and applied`);
    }
    for (const c of clients) {
      const end = Date.now() + 5_000;
      while (c.version < session.version && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(c.state, session.state, "every client reconnected and its mirror caught up");
    }
  } finally {
    for (const c of clients) await c.close();
    try {
      server.child.kill("SIGTERM");
    } catch { /* it exited already */ }
    await server.child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
