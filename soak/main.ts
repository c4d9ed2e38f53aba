/**
 * The crash soak (issue 18): clients pipeline commands with ids over
 * WebSocket through `client.ts` (patches, actions, messages, results, timer
 * schedules and task claims) across many sessions, while the server is
 * killed with SIGKILL at random moments and restarted on the same data
 * directory. Clients reconnect with `since` and resend unacked commands with
 * the same ids, as `client.ts` does. At the end it checks, Jepsen-style:
 *
 * - every acknowledged command is applied exactly once in the KV state, in
 *   the order it was acked; no command is applied twice; a command answered
 *   with an error is not applied at all;
 * - SQL history holds every seq from 1 to the version exactly once, and the
 *   event of every acknowledged command;
 * - every client's mirror equals the server's state;
 * - every acknowledged timer fired exactly once;
 * - no task was acked to two agents, and every acked claim holds.
 *
 * Then a load phase: 1,000 WebSocket connections over 200 sessions (200 over
 * 40 with `--short`), each sending a patch a second, on a fresh server; it
 * samples the server's RSS and V8 heap from `/metrics` every 5 s and reports
 * their slope after the first fifth (the warm-up), the ack latency p50 and
 * p99, and any error. A heap whose troughs (after collections) keep growing
 * over 2 MiB a minute while RSS grows over 5 MiB a minute fails the full soak.
 *
 *   deno task soak            about 10 minutes: 5 of crashes (>= 20 kills), 5 of load
 *   deno task soak --short    about a minute, >= 3 kills (CI)
 *   --seconds N --sessions N --window N --load-seconds N --connections N
 *
 * Prints one JSON line of figures, then `soak: ok` or the violations, and
 * exits non-zero on any violation.
 *
 * @module
 */
import { connect, type DenizenClient } from "../client.ts";
import { createRuntime } from "../mod.ts";
import { soakKind } from "./_kind.ts";

const argv = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i];
  if (!a.startsWith("--")) continue;
  const next = Deno.args[i + 1];
  if (next === undefined || next.startsWith("--")) argv.set(a.slice(2), "true");
  else argv.set(a.slice(2), Deno.args[++i]);
}
const short = argv.has("short");
const seconds = Number(argv.get("seconds") ?? (short ? 25 : 280));
const loadSeconds = Number(argv.get("load-seconds") ?? (short ? 15 : 300));
const connections = Number(argv.get("connections") ?? (short ? 200 : 1000));
const sessions = Number(argv.get("sessions") ?? 50);
const window = Number(argv.get("window") ?? 8);
const minKills = short ? 3 : 20;
const killEvery: [number, number] = short ? [3_000, 6_000] : [6_000, 18_000];

const config = new URL("../deno.json", import.meta.url).pathname;
const serverFile = new URL("./server.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "denizen-soak-" });
const port = freePort();
const base = `http://127.0.0.1:${port}`;
const violations: string[] = [];
const violation = (s: string) => {
  if (violations.length < 50) violations.push(s);
};

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

// ---- the server, killed and restarted ------------------------------------------------------

let server: Deno.ChildProcess | undefined;
let kills = 0;
const downMs: number[] = [];

async function startServer(): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, serverFile, "--dir", dir, "--port", String(port)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`soak server exited before it was ready: ${text}`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  server = child;
}

async function kill(): Promise<void> {
  const child = server!;
  server = undefined;
  child.kill("SIGKILL");
  await child.status;
  kills++;
  const t0 = performance.now();
  await startServer();
  downMs.push(performance.now() - t0);
}

async function http(path: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fetch(`${base}${path}`, init);
    } catch (e) {
      if (attempt > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---- the clients ---------------------------------------------------------------------------

type Kind = "patch" | "action" | "message" | "result" | "timer" | "claim";
const KINDS: Kind[] = ["patch", "patch", "action", "action", "message", "result", "timer", "claim"];

interface Sent {
  id: string;
  kind: Kind;
  n: number;
  outcome?: "acked" | "failed";
  version?: number;
  result?: unknown;
}

class Agent {
  readonly name: string;
  readonly session: string;
  readonly sent: Sent[] = [];
  client!: DenizenClient<typeof soakKind>;
  #n = 0;

  constructor(session: string, name: string) {
    this.session = session;
    this.name = name;
  }

  async open(): Promise<void> {
    this.client = await connect<typeof soakKind>(`${base}/v1/sessions/${this.session}/ws`, {
      agent: this.name,
      initialDelayMs: 50,
      maxDelayMs: 1_000,
      staleMs: 10_000,
    });
  }

  /** Keeps `window` commands in flight until `until`. */
  async run(until: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (performance.now() < until) {
      while (inFlight.size < window && performance.now() < until) {
        const p = this.#one().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  async #one(): Promise<void> {
    const n = this.#n++;
    const kind = n === 0 ? "patch" : KINDS[Math.floor(Math.random() * KINDS.length)];
    const s: Sent = { id: `${this.name}-${n}`, kind, n };
    this.sent.push(s);
    const c = this.client;
    const key = `p_${this.name}`;
    try {
      let ack: { version: number; result?: unknown };
      switch (kind) {
        case "patch":
          ack = await c.patch(
            n === 0
              ? [{ op: "add", path: `/${key}`, value: [] }]
              : [{ op: "add", path: `/${key}/-`, value: n }],
            { id: s.id },
          );
          break;
        case "action":
          ack = await c.action("append", { client: this.name, n }, { id: s.id });
          break;
        case "message":
          ack = await c.message({ role: "agent", content: s.id }, { id: s.id });
          break;
        case "result":
          ack = await c.result({ key: s.id, data: { n } }, { id: s.id });
          break;
        case "timer":
          ack = await c.timer({
            in: 200 + Math.floor(Math.random() * 1_500),
            action: "fire",
            args: { tid: s.id },
          }, { id: s.id });
          break;
        case "claim":
          ack = await c.claim({ lease: "1h", id: s.id });
          break;
      }
      s.outcome = "acked";
      s.version = ack.version;
      s.result = ack.result;
    } catch (e) {
      s.outcome = "failed";
      s.result = (e as Error).message;
    }
  }
}

// ---- the run -------------------------------------------------------------------------------

await startServer();
const ids = Array.from({ length: sessions }, (_, i) => `soak-${i}`);
for (const id of ids) {
  const res = await http("/v1/sessions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id, kind: "soak" }),
  });
  if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
  const plan = await http(`/v1/sessions/${id}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      tasks: Array.from({ length: 500 }, (_, i) => ({ id: `task-${i}`, title: `T${i}` })),
    }),
  });
  if (plan.status !== 201) throw new Error(`plan ${id}: ${plan.status} ${await plan.text()}`);
}
const agents = ids.flatMap((id, i) => [new Agent(id, `a${i}`), new Agent(id, `b${i}`)]);
await Promise.all(agents.map((a) => a.open()));

const t0 = performance.now();
const until = t0 + seconds * 1000;
const killing = (async () => {
  while (performance.now() < until - 2_000 || kills < minKills) {
    const [lo, hi] = killEvery;
    await new Promise((r) => setTimeout(r, lo + Math.random() * (hi - lo)));
    if (performance.now() > until - 1_000 && kills >= minKills) break;
    await kill();
  }
})();
await Promise.all([...agents.map((a) => a.run(until)), killing]);
const runSeconds = (performance.now() - t0) / 1000;

// Everything acked or refused by now; timers come due within 2 s of being scheduled.
const sent = agents.flatMap((a) => a.sent);
const pending = sent.filter((s) => s.outcome === undefined).length;
if (pending > 0) violation(`${pending} commands never answered`);

async function sessionOf(id: string): Promise<{ state: Record<string, unknown>; version: number }> {
  const res = await http(`/v1/sessions/${id}`);
  return await res.json();
}

const timerDeadline = performance.now() + 15_000;
for (const a of agents) {
  const acked = a.sent.filter((s) => s.kind === "timer" && s.outcome === "acked").map((s) => s.id);
  for (;;) {
    const fired = new Set((await sessionOf(a.session)).state.fired as string[]);
    if (acked.every((t) => fired.has(t)) || performance.now() > timerDeadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Mirrors: each client catches up to the server's version and must equal its state.
for (const a of agents) {
  const s = await sessionOf(a.session);
  const end = performance.now() + 10_000;
  while (a.client.version < s.version && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const now = await sessionOf(a.session);
  if (JSON.stringify(a.client.state) !== JSON.stringify(now.state)) {
    violation(
      `${a.name}: mirror at v${a.client.version} differs from the server's v${now.version}`,
    );
  }
}
await Promise.all(agents.map((a) => a.client.close()));

// Stop the server cleanly and read everything back through a runtime on the same files.
server!.kill("SIGKILL");
await server!.status;
const rt = await createRuntime({ dataDir: dir, kinds: [soakKind], tickMs: 0 });
let events = 0;
const claimedBy = new Map<string, string>();
for (const id of ids) {
  const session = await rt.get(id);
  const state = session.state as Record<string, unknown> & {
    actions: Record<string, number[]>;
    fired: string[];
  };
  const history = [];
  for (let after = 0;;) {
    const page = await rt.events(id, { after, limit: 1000 });
    history.push(...page);
    if (page.length < 1000) break;
    after = page.at(-1)!.seq;
  }
  events += history.length;
  history.forEach((e, i) => {
    if (e.seq !== i + 1) violation(`${id}: history has seq ${e.seq} at position ${i + 1}`);
  });
  if (history.length !== session.version) {
    violation(`${id}: history holds ${history.length} events, the version is ${session.version}`);
  }
  const bySeq = new Map(history.map((e) => [e.seq, e]));
  const messages = new Map<string, number>();
  for (const e of history) {
    if (e.type === "message") {
      const content = (e.data as { content: string }).content;
      messages.set(content, (messages.get(content) ?? 0) + 1);
    }
  }
  const results = new Map<string, number>();
  for (const e of history) {
    if (e.type === "result") {
      const key = (e.data as { key: string }).key;
      results.set(key, (results.get(key) ?? 0) + 1);
    }
  }
  const fired = new Map<string, number>();
  for (const t of state.fired) fired.set(t, (fired.get(t) ?? 0) + 1);
  const tasks = new Map((await rt.tasks(id)).map((t) => [t.id, t]));

  for (const a of agents.filter((x) => x.session === id)) {
    const applied = {
      patch: (state[`p_${a.name}`] as number[] | undefined) ?? [],
      action: state.actions[a.name] ?? [],
    };
    for (const kind of ["patch", "action"] as const) {
      const mine = a.sent.filter((s) => s.kind === kind && s.n > 0);
      const list = applied[kind];
      if (new Set(list).size !== list.length) violation(`${a.name}: a ${kind} applied twice`);
      for (const s of mine) {
        const count = list.filter((n) => n === s.n).length;
        if (s.outcome === "acked" && count !== 1) violation(`${s.id}: acked, applied ${count}x`);
        if (s.outcome === "failed" && count !== 0) violation(`${s.id}: refused, applied anyway`);
      }
      const ackedOrder = mine.filter((s) => s.outcome === "acked")
        .sort((x, y) => x.version! - y.version!).map((s) => s.n);
      const appliedAcked = list.filter((n) => ackedOrder.includes(n));
      if (JSON.stringify(appliedAcked) !== JSON.stringify(ackedOrder)) {
        violation(`${a.name}: ${kind}s applied in another order than their acks' versions`);
      }
    }
    for (const s of a.sent) {
      const counts = s.kind === "message"
        ? messages.get(s.id) ?? 0
        : s.kind === "result"
        ? results.get(s.id) ?? 0
        : s.kind === "timer"
        ? fired.get(s.id) ?? 0
        : undefined;
      if (counts !== undefined) {
        if (s.outcome === "acked" && counts !== 1) violation(`${s.id}: acked, present ${counts}x`);
        if (s.outcome !== "acked" && counts > 1) violation(`${s.id}: present ${counts}x`);
        if (s.outcome === "failed" && s.kind !== "timer" && counts !== 0) {
          violation(`${s.id}: refused, present anyway`);
        }
      }
      if (s.outcome === "acked" && s.version !== undefined && s.kind !== "claim") {
        if (!bySeq.has(s.version)) violation(`${s.id}: acked at v${s.version}, not in history`);
      }
      if (s.kind === "claim" && s.outcome === "acked") {
        const task = (s.result as { task: { id: string } | null }).task;
        if (task === null) continue;
        const other = claimedBy.get(`${id}/${task.id}`);
        if (other !== undefined && other !== a.name) {
          violation(`${id}/${task.id}: acked to ${other} and to ${a.name}`);
        }
        claimedBy.set(`${id}/${task.id}`, a.name);
        if (tasks.get(task.id)?.holder !== a.name) {
          violation(`${id}/${task.id}: acked to ${a.name}, held by ${tasks.get(task.id)?.holder}`);
        }
      }
    }
  }
  for (const t of tasks.values()) {
    if (t.status === "claimed" && !claimedBy.has(`${id}/${t.id}`)) {
      // An unacked claim (its ack lost in a kill, its resend deduped) still names one holder.
      if (!agents.some((a) => a.name === t.holder)) violation(`${id}/${t.id}: held by a stranger`);
    }
  }
}
await rt.close();

// ---- the load phase ------------------------------------------------------------------------

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function loadPhase(): Promise<Record<string, unknown>> {
  await startServer();
  const perSession = 5;
  const loadSessions = Math.ceil(connections / perSession);
  for (let i = 0; i < loadSessions; i++) {
    await http("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: `load-${i}`, kind: "soak" }),
    });
  }
  const clients: DenizenClient<typeof soakKind>[] = [];
  for (let i = 0; i < connections; i++) {
    clients.push(
      await connect<typeof soakKind>(`${base}/v1/sessions/load-${i % loadSessions}/ws`, {
        agent: `l${i}`,
        staleMs: 0,
      }),
    );
  }
  const latencies: number[] = [];
  let errors = 0;
  let lastError = "";
  const samples: { t: number; rss: number; heap: number }[] = [];
  const t0 = performance.now();
  const end = t0 + loadSeconds * 1000;
  const sampler = (async () => {
    while (performance.now() < end) {
      const text = await (await http("/metrics")).text();
      const num = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1]);
      samples.push({
        t: (performance.now() - t0) / 60_000,
        rss: num("denizen_process_rss_bytes"),
        heap: num("denizen_heap_used_bytes"),
      });
      await new Promise((r) => setTimeout(r, 5_000));
    }
  })();
  await Promise.all(clients.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, Math.random() * 1_000));
    for (let n = 0; performance.now() < end; n++) {
      const sent = performance.now();
      try {
        await c.patch([{ op: "add", path: `/l${i}`, value: n }], { id: `l${i}-${n}` });
        latencies.push(performance.now() - sent);
      } catch (e) {
        errors++;
        lastError = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (performance.now() - sent))));
    }
  }));
  await sampler;
  await Promise.all(clients.map((c) => c.close()));
  server!.kill("SIGKILL");
  await server!.status;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  if (latencies.length === 0) violation("load: no command was acked");
  // The heap saws up and down with every collection; a leak shows in its troughs. The slope is
  // fitted to the lowest sample of each 30 s window after the warm-up (the first fifth).
  const steady = samples.slice(Math.floor(samples.length / 5));
  const troughs: typeof steady = [];
  for (let i = 0; i < steady.length; i += 6) {
    const w = steady.slice(i, i + 6);
    troughs.push(w.reduce((a, b) => b.heap < a.heap ? b : a));
  }
  const mib = 1024 * 1024;
  const rssSlope = slope(steady.map((x) => x.t), steady.map((x) => x.rss)) / mib;
  const heapSlope = slope(troughs.map((x) => x.t), troughs.map((x) => x.heap)) / mib;
  if (errors > 0) violation(`load: ${errors} commands failed, the last: ${lastError}`);
  if (!short && heapSlope > 2 && rssSlope > 5) {
    violation(
      `load: memory grows (heap ${heapSlope.toFixed(2)} MiB/min, RSS ${rssSlope.toFixed(2)})`,
    );
  }
  return {
    connections,
    sessions: loadSessions,
    seconds: loadSeconds,
    acked: latencies.length,
    errors,
    ackP50Ms: +at(0.5).toFixed(2),
    ackP99Ms: +at(0.99).toFixed(2),
    rssMiB: samples.map((x) => +(x.rss / mib).toFixed(1)),
    heapMiB: samples.map((x) => +(x.heap / mib).toFixed(1)),
    rssSlopeMiBPerMin: +rssSlope.toFixed(2),
    heapSlopeMiBPerMin: +heapSlope.toFixed(2),
  };
}

const load = loadSeconds > 0 ? await loadPhase() : undefined;
await Deno.remove(dir, { recursive: true }).catch(() => {});

const count = (k: Kind, o: Sent["outcome"]) =>
  sent.filter((s) => s.kind === k && s.outcome === o).length;
console.log(JSON.stringify({
  seconds: +runSeconds.toFixed(1),
  kills,
  restartMsMedian: downMs.sort((a, b) => a - b)[Math.floor(downMs.length / 2)] ?? 0,
  sessions,
  clients: agents.length,
  commands: sent.length,
  acked: sent.filter((s) => s.outcome === "acked").length,
  refused: sent.filter((s) => s.outcome === "failed").length,
  byKind: Object.fromEntries(
    [...new Set(KINDS)].map((k) => [k, { acked: count(k, "acked"), refused: count(k, "failed") }]),
  ),
  events,
  claims: claimedBy.size,
  load,
}));
if (kills < minKills) violation(`only ${kills} kills, fewer than ${minKills}`);
if (violations.length > 0) {
  console.log(`soak: ${violations.length} violation(s)\n${violations.join("\n")}`);
  Deno.exit(1);
}
console.log("soak: ok");
