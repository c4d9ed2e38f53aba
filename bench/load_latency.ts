/**
 * Ack latency at a fixed offered load, open loop: patches go out on a
 * schedule (`--rate` per second) whatever the acks do (a slow ack never
 * delays the next send). Each latency runs from the moment its frame was
 * handed to the socket to the moment its ack arrived; timer jitter of this
 * process is reported apart (`lateP99`, how late sends left vs schedule).
 *
 *   deno run -A bench/load_latency.ts --url URL --prefix P [--rate 1000]
 *     [--seconds 5] [--warmup-ms 500]
 *
 * Prints `{p50, p99, max, n, lateP99, errors, lastError?, offered, achieved, answered, total}`
 * (ms, per second); latencies are of acked commands only.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { latencies } from "./_stats.ts";
import { closeSocket, createSession, type Frame, openSocket, stateOf } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const id = `${f.get("prefix") ?? "lat"}-0`;
const rate = num(f, "rate", 1_000);
const seconds = num(f, "seconds", 5);
const warmupMs = num(f, "warmup-ms", 500);

await createSession(url, id, stateOf(1));
const { ws } = await openSocket(url, id);
const period = 1000 / rate;
const total = Math.round((seconds * 1000 + warmupMs) / period);
const due = new Float64Array(total);
const sentAt = new Float64Array(total);
const samples: number[] = [];
let errors = 0;
let lastError = "";
let answered = 0;
let done: () => void;
const finished = new Promise<void>((r) => done = r);

ws.onmessage = (e) => {
  const data = e.data as string;
  if (!data.startsWith('{"t":"ack"') && !data.startsWith('{"t":"error"')) return;
  const now = performance.now();
  const fr = JSON.parse(data) as Frame;
  const i = Number(fr.id);
  if (fr.t === "error") {
    errors++;
    lastError = `${fr.code}: ${fr.message}`;
  } else if (due[i] - due[0] >= warmupMs) samples.push(now - sentAt[i]);
  if (++answered === total) done();
};

const t0 = performance.now();
let sent = 0;
const late: number[] = [];
const tick = () => {
  while (sent < total && t0 + sent * period <= performance.now()) {
    due[sent] = t0 + sent * period;
    sentAt[sent] = performance.now();
    late.push(sentAt[sent] - due[sent]);
    ws.send(
      JSON.stringify({
        t: "patch",
        id: String(sent),
        ops: [{ op: "replace", path: "/n", value: sent }],
      }),
    );
    sent++;
  }
  if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * period - performance.now()));
};
tick();
const timeout = setTimeout(done!, seconds * 1000 + warmupMs + 15_000);
await finished;
clearTimeout(timeout);
const elapsed = (performance.now() - t0) / 1000;
await closeSocket(ws);
emit({
  ...latencies(samples),
  lateP99: latencies(late).p99,
  errors,
  ...(lastError ? { lastError } : {}),
  offered: rate,
  achieved: answered / elapsed,
  answered,
  total,
});
