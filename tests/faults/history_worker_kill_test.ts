/**
 * Crash: the history worker's thread alone is killed (SQLite history, writes
 * from a worker) while commands are acknowledged, then kept dead for a while.
 */
import { internals } from "../../actors/runtime.ts";
import assert from "node:assert/strict";
import { createRuntime, type Runtime } from "../../mod.ts";
import type { KyselyHistoryStore } from "../../src/history/kysely_history.ts";
import type { WorkerWriter } from "../../src/history/worker_writer.ts";
import type { HistoryBatch } from "../../src/history/history_store.ts";
import { call } from "../routes/_fixtures.ts";
import { assertHistoryComplete, quietly, settledWithin, tally, until } from "./_faults.ts";

const SESSIONS = 6;
/** Results over 1 MiB go to the blob store: every 25th result of a client is one. */
const BIG = "x".repeat(1024 * 1024 + 10);

/** One acknowledged command: its session, the version its ack gave, and its unique tag. */
interface Ack {
  session: string;
  version: number;
  tag: string;
  /** A patch or an action, which add the tag to the state's log. */
  logs: boolean;
}

/** The writer behind `internals(rt).history`: the test's way to the thread, which it ends as a crash would. */
function writerOf(rt: Runtime): WorkerWriter {
  const writer = (internals(rt).history as KyselyHistoryStore).writer as WorkerWriter | undefined;
  assert.ok(writer, "history writes go through a worker");
  return writer;
}

/** Sends commands of every sort to `session` until `stop` is set; records acks and statuses. */
async function client(
  rt: Runtime,
  session: string,
  name: string,
  run: { stop: boolean; acks: Ack[]; statuses: Map<number, number> },
): Promise<void> {
  for (let i = 0; !run.stop; i++) {
    const tag = `<${session}:${name}:${i}>`;
    const path = `/v1/sessions/${session}`;
    const res = i % 4 === 0
      ? await call(rt, "PATCH", `${path}/state`, {
        body: [{ op: "add", path: "/log/-", value: tag }],
      })
      : i % 4 === 1
      ? await call(rt, "POST", `${path}/messages`, { body: { role: "user", content: tag } })
      : i % 4 === 2
      ? await call(rt, "POST", `${path}/results`, {
        body: { agent: "a", key: tag, data: i % 100 === 2 ? BIG : { tag } },
      })
      : await call(rt, "POST", `${path}/actions/add`, { body: { args: { tag } } });
    run.statuses.set(res.status, (run.statuses.get(res.status) ?? 0) + 1);
    if (res.status < 300) {
      run.acks.push({ session, version: res.body.version, tag, logs: i % 4 === 0 || i % 4 === 3 });
    }
  }
}

Deno.test("the history worker's thread killed under load: no false ack, acks go on, /healthz degrades and recovers, a new worker takes over without a restart, SQL holds every acked event once and in order", async () => {
  const dir = await Deno.makeTempDir();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, kinds: [tally] });
  try {
    const writer = writerOf(rt);
    const ids = Array.from({ length: SESSIONS }, (_, i) => `w${i}`);
    for (const id of ids) await rt.create("tally", { id });
    await rt.flush();

    // The test's hook: after a write is handed to the worker, end the thread (at once while
    // `outage` is set, else when `killNext` is armed, after 0 to 4 ms: before, during or
    // just after its transaction).
    const threads = new Set<unknown>();
    let killNext = false;
    let outage = false;
    let kills = 0;
    let landed = 0;
    /** The longest wait, from a kill to a write that went through. */
    let slowest = 0;
    const kill = () => {
      kills++;
      void writer.thread?.terminate();
    };
    const history = internals(rt).history;
    const write = history.write;
    history.write = function (batch: HistoryBatch) {
      const out = write.call(this, batch);
      if (writer.thread) threads.add(writer.thread);
      if (outage) kill();
      else if (killNext) {
        killNext = false;
        setTimeout(kill, Math.random() * 4);
      }
      out.then(() => landed++, () => {});
      return out;
    };

    const run = { stop: false, acks: [] as Ack[], statuses: new Map<number, number>() };
    let clients: Promise<void>[] = [];
    const { logged } = await quietly(async () => {
      try {
        clients = ids.flatMap((id) => [client(rt, id, "a", run), client(rt, id, "b", run)]);

        // Kills at random moments, each in the middle of a write; the drainer's retry, on a
        // new thread, succeeds before the next.
        for (let k = 0; k < 10; k++) {
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
          const [killed, wrote] = [kills, landed];
          killNext = true;
          await until(() => kills > killed, "a write to kill", 5_000);
          const dead = performance.now();
          await until(
            () => landed > wrote && internals(rt).stores.historyWrites.failures === 0,
            "a write on a new thread",
            3_000,
          );
          slowest = Math.max(slowest, performance.now() - dead);
        }

        // Then an outage: every new thread dies at once, for a second and a half.
        outage = true;
        kill();
        await until(
          () => internals(rt).stores.historyWrites.failures >= 2,
          "two writes to fail",
          5_000,
        );
        const acksBefore = run.acks.length;
        const health = await call(rt, "GET", "/healthz");
        assert.equal(health.status, 200, "degraded, still ready: commands are acked");
        assert.equal(health.body.degraded, true, JSON.stringify(health.body));
        assert.match(health.body.history.error, /History worker stopped/);
        // A read that needs SQL complete says so with a 503, and does not hang.
        const list = await settledWithin(call(rt, "GET", "/v1/sessions"), 5_000);
        assert.ok(list !== "pending" && "value" in list, "the list answers");
        assert.equal(list.value.status, 503, JSON.stringify(list.value.body));
        assert.equal(list.value.body.error.code, "unavailable");
        await new Promise((r) => setTimeout(r, 1_500));
        assert.ok(run.acks.length > acksBefore + 50, "commands are acked while history is down");
        outage = false;
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        outage = killNext = false;
        run.stop = true;
        await Promise.all(clients);
      }

      // Nobody flushes or restarts: the drainer's retry starts a new worker and catches up.
      const versions = new Map<string, number>();
      for (const a of run.acks) {
        versions.set(a.session, Math.max(versions.get(a.session) ?? 0, a.version));
      }
      await until(
        async () => {
          for (const [id, version] of versions) {
            if (await internals(rt).history.lastSeq(id) < version) return false;
          }
          return true;
        },
        "history to catch up",
        10_000,
      );
      await until(
        async () => !(await call(rt, "GET", "/healthz")).body.degraded,
        "/healthz to recover",
      );
    });
    assert.ok(logged.some((l) => /History worker stopped/.test(l)), "failed passes are logged");

    const statuses = Object.fromEntries(run.statuses);
    assert.deepEqual(
      Object.keys(statuses).filter((s) => s !== "200" && s !== "201"),
      [],
      `every command acked: ${JSON.stringify(statuses)}`,
    );
    assert.deepEqual((await call(rt, "GET", "/healthz")).body, { ok: true, kv: "ok", sql: "ok" });

    // Every acked command's event is in SQL once, at the seq its ack gave, with seqs 1..version.
    for (const id of ids) {
      await assertHistoryComplete(rt, id);
      const events = await internals(rt).history.events(id, { limit: 100_000 });
      // The tags an event names (a result names its tag as key and in its data).
      const tags = events.map((e) => [
        ...new Set(JSON.stringify(e.data).match(/<w\d+:[ab]:\d+>/g)),
      ]);
      const acks = run.acks.filter((a) => a.session === id);
      for (const a of acks) {
        assert.ok(tags[a.version - 1].includes(a.tag), `${a.tag} is the event at seq ${a.version}`);
      }
      assert.deepEqual(
        tags.flat().sort(),
        acks.map((a) => a.tag).sort(),
        `${id}: each acked command's event once, and no other`,
      );
      const state = (await rt.get(id)).state as { log: string[] };
      const logged = acks.filter((a) => a.logs).map((a) => a.tag);
      assert.deepEqual([...state.log].sort(), logged.sort(), `${id}: acked patches and actions`);
    }
    assert.ok(kills >= 12, `${kills} kills`);
    assert.ok(threads.size >= 10, `${threads.size} worker threads took over in turn`);
    console.log(
      `${kills} kills, ${threads.size} threads, ${
        internals(rt).metrics.drainErrors
      } failed passes, ` +
        `back in ${Math.round(slowest)} ms at most, ` +
        `${run.acks.length} acks over ${SESSIONS} sessions`,
    );
  } finally {
    await rt.close();
    await Deno.remove(dir, { recursive: true });
  }
});
