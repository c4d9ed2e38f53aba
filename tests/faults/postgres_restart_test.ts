/**
 * Fault 3: PostgreSQL restarts, and stops for a while, under a steady load.
 *
 * The test restarts a PostgreSQL of its own (the binaries `.ci/postgres.sh`
 * installs, in a temp dir, on a free port), not the cluster of
 * `DATABASE_URL`: the other PostgreSQL tests run in parallel on that one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { UnavailableError } from "../../src/errors.ts";
import { call } from "../routes/_fixtures.ts";
import { assertHistoryComplete, quietly, tally, until } from "./_faults.ts";
import { RETRY_MAX_MS } from "../../actors/drainer.ts";
import { internals } from "../../actors/runtime.ts";

const url = Deno.env.get("DATABASE_URL");

/** A PostgreSQL server of this test's own. */
interface PrivatePostgres {
  readonly url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

/** Runs `cmd` (as the `postgres` user when this process is root, since PostgreSQL refuses root). */
async function run(cmd: string, args: string[]): Promise<void> {
  const asRoot = Deno.uid() === 0;
  const out = await new Deno.Command(asRoot ? "runuser" : cmd, {
    args: asRoot ? ["-u", "postgres", "--", cmd, ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** The newest PostgreSQL's bin directory, as Debian installs it. */
async function binDir(): Promise<string> {
  const versions: number[] = [];
  try {
    for await (const e of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch { /* none */ }
  if (versions.length === 0) {
    throw new Error("PostgreSQL binaries not found in /usr/lib/postgresql: run .ci/postgres.sh");
  }
  return `/usr/lib/postgresql/${Math.max(...versions)}/bin`;
}

async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = await binDir();
  const dir = await Deno.makeTempDir({ prefix: "denizen-pg-" });
  if (Deno.uid() === 0) {
    const id = await new Deno.Command("id", { args: ["-u", "postgres"] }).output();
    const uid = Number(new TextDecoder().decode(id.stdout));
    await Deno.chown(dir, uid, null);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const data = `${dir}/data`;
  await run(`${bin}/initdb`, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  const ctl = (...args: string[]) => run(`${bin}/pg_ctl`, ["-D", data, "-w", ...args]);
  const start = () =>
    ctl(
      "-l",
      `${dir}/log`,
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    );
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl("-l", `${dir}/log`, "-m", "fast", "restart"), // the log keeps the output off our pipes
    stop: () => ctl("-m", "fast", "stop"),
    start,
    async remove() {
      await ctl("-m", "immediate", "stop").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: url
    ? "a PostgreSQL restart and a stop mid-run: commands are acked throughout, history catches up with every event once"
    : "postgres restart: skipped, DATABASE_URL is not set (run .ci/postgres.sh; CI sets it)",
  ignore: !url,
  sanitizeResources: false, // pg's pool keeps sockets and timers by design
  sanitizeOps: false,
  async fn() {
    const pgi = await privatePostgres();
    const dir = await Deno.makeTempDir();
    const rt = await createRuntime({
      dataDir: dir,
      databaseUrl: pgi.url,
      tickMs: 0,
      kinds: [tally],
    });
    let stop = false;
    const acked = new Map<string, string[]>();
    const refused: unknown[] = [];
    try {
      const ids = ["a", "b", "c"];
      for (const id of ids) await rt.create("tally", { id });
      const total = () => [...acked.values()].reduce((n, tags) => n + tags.length, 0);
      const writers = ids.map(async (id) => {
        acked.set(id, []);
        for (let i = 0; !stop; i++) {
          try {
            await rt.action(id, "add", { tag: `${id}${i}` });
            acked.get(id)!.push(`${id}${i}`);
          } catch (e) {
            refused.push(e);
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      await quietly(async () => {
        await until(() => total() >= 30, "30 acks before the restart");
        await pgi.restart();
        let mark = total();
        await until(() => total() >= mark + 30, "30 acks after the restart");

        await pgi.stop();
        mark = total();
        await until(() => total() >= mark + 60, "60 acks while PostgreSQL is down");
        const health = await call(rt, "GET", "/healthz");
        assert.equal(health.status, 503, JSON.stringify(health.body));
        assert.equal(health.body.error.details.kv, "ok");
        assert.notEqual(health.body.error.details.sql, "ok");
        assert.ok(health.body.error.details.history.lagMs > 0, JSON.stringify(health.body));
        const list = await call(rt, "GET", "/v1/sessions");
        assert.equal(list.status, 503, "a read that needs SQL is a clear 503");
        assert.equal(list.body.error.code, "unavailable");

        await pgi.start();
        mark = total();
        await until(() => total() >= mark + 30, "30 acks after PostgreSQL is back");
        stop = true;
        await Promise.all(writers);
        // The drainer catches up by itself (nobody flushes), within its longest backoff.
        await until(
          async () => {
            for (const id of ids) {
              const events = await internals(rt).history.events(id, { limit: 10_000 }).catch(
                () => [],
              );
              if (events.length !== 1 + acked.get(id)!.length) return false;
            }
            return true;
          },
          "history to catch up",
          RETRY_MAX_MS + 3_000,
          50,
        );
      });
      assert.deepEqual(refused, [], "no command was refused: acks never wait on SQL");
      for (const id of ids) {
        assert.equal(await assertHistoryComplete(rt, id), 1 + acked.get(id)!.length);
        assert.deepEqual((await rt.get(id)).state.log, acked.get(id));
      }
      assert.deepEqual((await call(rt, "GET", "/healthz")).body, { ok: true, kv: "ok", sql: "ok" });
    } finally {
      stop = true;
      await rt.close().catch((e) => assert.ok(e instanceof UnavailableError, String(e)));
      await pgi.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
