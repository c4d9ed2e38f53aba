/**
 * The figures of coordination (SPEC §9, figures 12-14), all through the
 * server's public HTTP and WebSocket API: timer lateness with many timers
 * due in one second, claims per second with many agents on one plan, and
 * the approvals inbox over a stored data set with many pending approvals.
 * Each baseline is the same measurement at a small size, in the same run.
 *
 * @module
 */
import type { Run, Runs } from "./_run.ts";
import { runJson, type ServerHandle, startServer } from "./_spawn.ts";
import { median } from "./_stats.ts";

/** Measures figures 12-14 into `run`. */
export async function coordinationFigures(run: Run): Promise<void> {
  // Timers, then claims, on one server with a data directory and the runtime's defaults.
  const server = await startServer(["--dir", `${run.tmp}/coordination`]);
  try {
    await timerFigures(run, server);
    await claimFigures(run, server);
  } finally {
    await server.stop();
  }
  await inboxFigures(run);
}

const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits });

// ---- 12: timers ----------------------------------------------------------------------------

/** The timers of the baseline, due in the same second on the same server. */
const BASE_TIMERS = 100;

type Lateness = Record<string, number>;

/**
 * Figure 12: `cfg.timers` timers due within one second, a few seconds
 * ahead, on `server` (a data directory and the default scheduler, polling
 * every 250 ms); the baseline is 100 timers due in one second on the same
 * server. Repetitions alternate the two.
 */
async function timerFigures(run: Run, server: ServerHandle): Promise<void> {
  const { cfg } = run;
  const n = fmt(cfg.timers);
  await run.figure({
    id: "12",
    name: `timer lateness p99, ${n} timers due in one second`,
    unit: "ms",
    target: "<= 250 ms",
    baselineLabel: `${BASE_TIMERS} timers in one second`,
    met: (v) => v <= 250,
  }, async () => {
    const big: Lateness[] = [];
    const small: Lateness[] = [];
    for (let r = 0; r < cfg.reps; r++) {
      big.push(await lateness(run, server, cfg.timers));
      small.push(await lateness(run, server, BASE_TIMERS));
    }
    for (const [name, rs] of [[`${n} timers`, big], [`${BASE_TIMERS} timers`, small]] as const) {
      const each = rs.map((r) =>
        `p50 ${fmt(r.p50)}, p99 ${fmt(r.p99)}, max ${fmt(r.max)} ms (at*: p50 ${fmt(r.atP50)}, ` +
        `p99 ${fmt(r.atP99)}, max ${fmt(r.atMax)})`
      );
      run.notes.push(`Figure 12, ${name} due in one second, per run: ${each.join("; ")}.`);
    }
    run.notes.push(
      `Figure 12: timers over ${cfg.timerSessions} sessions (the baseline's too), bare ` +
        'reminders scheduled before their second over each session\'s WebSocket ({t:"timer", ' +
        "at}); lateness is the arrival of timer.fired at a WebSocket subscriber minus the due " +
        "time (an upper bound of commit minus due); at* is the event's at (the firing turn's " +
        "time, before its commit) minus due, a lower bound. The server polls its due index " +
        "every 250 ms (the default).",
    );
    return { runs: big.map((r) => r.p99), baselines: small.map((r) => r.p99) };
  });
}

/**
 * One run of load_timers.ts. A run whose scheduling reached the due second
 * is redone once with a longer lead.
 */
async function lateness(run: Run, server: ServerHandle, timers: number): Promise<Lateness> {
  let leadMs = 800 + timers * 0.8;
  for (let attempt = 0;; attempt++) {
    const args = run.loadArgs(server, {
      sessions: run.cfg.timerSessions,
      timers,
      "lead-ms": Math.round(leadMs),
    });
    const r = await run.one("load_timers.ts", args);
    run.log(
      `${timers} timers scheduled in ${fmt(r.scheduleMs)} ms, ${fmt(r.slackMs)} ms before due`,
    );
    if (r.missing > 0 || r.duplicates > 0 || r.early > 0) {
      throw new Error(`load_timers: ${JSON.stringify(r)}`);
    }
    if (r.slackMs > 0) return r;
    if (attempt > 0) {
      throw new Error(`scheduling ${timers} timers outlasted the lead: ${r.slackMs} ms`);
    }
    run.log(`scheduling ${timers} timers took ${fmt(r.scheduleMs)} ms: again with a longer lead`);
    leadMs = 2 * leadMs + r.scheduleMs;
  }
}

// ---- 13: claims ----------------------------------------------------------------------------

interface ClaimRun {
  claims: number;
  startMs: number;
  endMs: number;
  errors: number;
  lastError?: string;
  claimed: Record<string, string[]>;
}

interface ClaimRep {
  rate: number;
  baseRate: number;
  claims: number;
  seconds: number;
  doubles: number;
  mismatches: string[];
  /** From spawning the generators to all of them ready (sockets open), ms. */
  ready: number;
  /** A fresh socket's welcome on the full plan. */
  welcome: { bytes: number; ms: number };
}

/**
 * Figure 13: per repetition, a fresh session with a plan of `cfg.plan`
 * tasks without deps. First one agent claims for `cfg.seconds` or a tenth
 * of the plan (the baseline); then `cfg.agents` agents, over
 * `cfg.agentProcesses` generator processes, claim until the plan is
 * exhausted (or `cfg.claimSeconds` pass).
 * Every claim is checked: no task may be acked to two agents, and the
 * server's plan must agree (each acked task claimed once, by the agent it
 * was acked to, and nothing claimed that was not acked).
 */
async function claimFigures(run: Run, server: ServerHandle): Promise<void> {
  const { cfg } = run;
  let doubles = 0;
  const fig = await run.figure({
    id: "13",
    name: `claims/s, ${cfg.agents} agents on one plan of ${fmt(cfg.plan)} tasks`,
    unit: "/s",
    target: ">= 5,000/s, 0 double claims",
    baselineLabel: "1 agent",
    ratio: true,
    met: (v) => v >= 5_000 && doubles === 0,
  }, async () => {
    const reps: ClaimRep[] = [];
    for (let r = 0; r < cfg.reps; r++) reps.push(await claimRep(run, server));
    doubles = reps.reduce((n, r) => n + r.doubles, 0);
    for (const [i, r] of reps.entries()) {
      run.notes.push(
        `Figure 13, run ${i + 1}: ${fmt(r.claims)} claims in ${fmt(r.seconds, 2)} s ` +
          `(${fmt(r.rate)}/s; 1 agent: ${fmt(r.baseRate)}/s), ${r.doubles} double claims` +
          (r.mismatches.length ? ` (${r.mismatches.slice(0, 3).join("; ")})` : "") +
          `; generators ready in ${fmt(r.ready)} ms; a fresh welcome on the plan: ${
            fmt(r.welcome.bytes / 1e6, 2)
          } MB in ` +
          `${fmt(r.welcome.ms, 1)} ms.`,
      );
    }
    run.notes.push(
      `Figure 13: ${cfg.agents} agents (a WebSocket each, ?agent=&since=<seq>) over ${cfg.agentProcesses} ` +
        `generator processes, each with one {t:"claim"} in flight, claim from one plan of ` +
        `${fmt(cfg.plan)} tasks without deps (a session holds at most 10,000) until it is ` +
        `exhausted or ${cfg.claimSeconds} s pass; the rate is acked claims over first send to ` +
        "last ack. A double claim is a task acked twice, or claimed on the server other than " +
        "as acked (another holder, a second attempt, or never acked). Every socket also " +
        "receives every task.claimed event of the session.",
    );
    return { runs: reps.map((r) => r.rate), baselines: reps.map((r) => r.baseRate) };
  });
  if (fig.runs.length > 0) fig.name += ` (${doubles} double claims)`;
}

async function claimRep(run: Run, server: ServerHandle): Promise<ClaimRep> {
  const { cfg } = run;
  const session = run.tag();
  const base = ["--url", server.url, "--session", session];
  const planMs = performance.now();
  await makePlan(server, session, cfg.plan);
  run.log(`plan of ${cfg.plan} tasks added in ${fmt(performance.now() - planMs)} ms`);
  const welcome = await freshWelcome(server, session);
  const solo = (await runJson("load_claims.ts", [
    ...base,
    ...["--agents", "1", "--agent-prefix", "solo-", "--seconds", String(cfg.seconds)],
    ...["--max-claims", String(Math.floor(cfg.plan / 10))],
  ]))[0] as unknown as ClaimRun;
  const per = Math.ceil(cfg.agents / cfg.agentProcesses);
  const barrier = await Deno.makeTempDir({ dir: run.tmp, prefix: "barrier-" });
  const procs = Array.from(
    { length: cfg.agentProcesses },
    async (_, p) =>
      (await runJson("load_claims.ts", [
        ...base,
        ...["--agents", String(Math.min(per, cfg.agents - p * per)), "--agent-prefix", `g${p}-`],
        ...["--barrier", barrier, "--seconds", String(cfg.claimSeconds)],
      ]))[0] as unknown as ClaimRun,
  );
  const ready = await release(barrier, cfg.agentProcesses, Promise.all(procs));
  const many = await Promise.all(procs);
  for (const r of [solo, ...many]) {
    if (r.errors > 0) throw new Error(`load_claims: ${r.errors} errors, last ${r.lastError}`);
  }
  const check = await verify(server, session, [solo, ...many]);
  const claims = many.reduce((n, r) => n + r.claims, 0);
  const start = Math.min(...many.map((r) => r.startMs));
  const end = Math.max(...many.map((r) => r.endMs));
  return {
    rate: claims / ((end - start) / 1000),
    baseRate: solo.claims / ((solo.endMs - solo.startMs) / 1000),
    claims,
    seconds: (end - start) / 1000,
    ready,
    welcome,
    ...check,
  };
}

/**
 * Tasks per `POST …/tasks`. The route takes up to 1,000, but 1,000 at once
 * fails with 503 "Too many mutations (max 1000)" (one KV atomic).
 */
const PLAN_CHUNK = 500;

/** Creates `session` with a plan of `n` tasks without deps, `PLAN_CHUNK` a request. */
async function makePlan(server: ServerHandle, session: string, n: number): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}/v1/sessions${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
  };
  await post("", { id: session, state: {} });
  for (let i = 0; i < n; i += PLAN_CHUNK) {
    const tasks = Array.from({ length: Math.min(PLAN_CHUNK, n - i) }, (_, k) => ({
      id: `k${i + k}`,
      title: `task ${i + k}`,
    }));
    await post(`/${session}/tasks`, { tasks });
  }
}

/**
 * Waits until `n` generators have written their ready file to `dir` (or
 * `exited` settles first: one failed), then writes the start time to
 * `dir/go`. Returns how long they took to get ready, ms; throws when not
 * all got ready.
 */
async function release(dir: string, n: number, exited: Promise<unknown>): Promise<number> {
  const started = performance.now();
  let gone = false;
  exited.then(() => gone = true, () => gone = true);
  let ready = 0;
  while (ready < n && !gone) {
    await new Promise((r) => setTimeout(r, 10));
    ready = 0;
    for await (const e of Deno.readDir(dir)) if (e.name.startsWith("ready-")) ready++;
  }
  const ms = performance.now() - started;
  // Written whole at once; also when one failed, so that the others finish rather than wait.
  await Deno.writeTextFile(`${dir}/go.tmp`, String(Date.now() + 50));
  await Deno.rename(`${dir}/go.tmp`, `${dir}/go`);
  if (ready < n) throw new Error(`${ready} of ${n} claim generators got ready`);
  return ms;
}

/** Size and time of the welcome of a socket opened on `session` without `since`. */
function freshWelcome(
  server: ServerHandle,
  session: string,
): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/v1/sessions/${session}/ws`);
  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error("the welcome socket failed"));
    ws.onmessage = (e) => {
      const text = e.data as string;
      if (!text.startsWith('{"t":"welcome"')) return;
      const ms = performance.now() - started;
      ws.onerror = null;
      ws.close();
      resolve({ bytes: new TextEncoder().encode(text).length, ms });
    };
  });
}

/** Counts double claims: acked twice, or held on the server other than as acked. */
async function verify(
  server: ServerHandle,
  session: string,
  runs: ClaimRun[],
): Promise<{ doubles: number; mismatches: string[] }> {
  const acked = new Map<string, string>();
  const mismatches: string[] = [];
  for (const r of runs) {
    for (const [agent, ids] of Object.entries(r.claimed)) {
      for (const id of ids) {
        const first = acked.get(id);
        if (first !== undefined) mismatches.push(`${id} acked to ${first} and ${agent}`);
        else acked.set(id, agent);
      }
    }
  }
  const res = await fetch(`${server.url}/v1/sessions/${session}/tasks`);
  if (!res.ok) throw new Error(`GET tasks: ${res.status} ${await res.text()}`);
  const { tasks } = await res.json() as {
    tasks: { id: string; status: string; holder?: string; attempt: number }[];
  };
  for (const t of tasks) {
    const agent = acked.get(t.id);
    if (agent === undefined) {
      if (t.status !== "ready") mismatches.push(`${t.id} ${t.status} by ${t.holder}, never acked`);
    } else if (t.status !== "claimed" || t.holder !== agent || t.attempt !== 1) {
      mismatches.push(
        `${t.id} acked to ${agent}, on the server ${t.status} by ${t.holder} ` +
          `(attempt ${t.attempt})`,
      );
    }
  }
  const known = new Set(tasks.map((t) => t.id));
  for (const id of acked.keys()) {
    if (!known.has(id)) mismatches.push(`${id} acked, not in the plan`);
  }
  return { doubles: mismatches.length, mismatches };
}

// ---- 14: the approvals inbox ---------------------------------------------------------------

/** Pending approvals of the baseline data set. */
const BASE_APPROVALS = 1_000;

interface Inbox {
  firstMs: number[];
  deepMs: number[];
}

/**
 * Figure 14: `GET /v1/approvals?status=pending&limit=50` on a server over a
 * stored data set of `cfg.approvals` pending approvals (10 a session), the
 * first page and one halfway down; the baseline is the same at 1,000.
 */
async function inboxFigures(run: Run): Promise<void> {
  const { cfg } = run;
  const small = Math.min(BASE_APPROVALS, cfg.approvals);
  let measured: { big: Inbox[]; base: Inbox[] } | undefined;
  const pick = (k: "firstMs" | "deepMs") => (): Runs => {
    if (measured === undefined) throw new Error("the inbox was not measured (figure 14)");
    return {
      runs: measured.big.map((x) => median(x[k])),
      baselines: measured.base.map((x) => median(x[k])),
    };
  };
  await run.figure({
    id: "14",
    name: `approvals inbox (pending, limit 50) p50, ${fmt(cfg.approvals)} pending`,
    unit: "ms",
    target: "<= 20 ms",
    baselineLabel: `${fmt(small)} pending`,
    met: (v) => v <= 20,
  }, async () => {
    measured = await measureInbox(run, small);
    return pick("firstMs")();
  });
  await run.figure({
    id: "14b",
    name: "  same, the page halfway down (cursor)",
    unit: "ms",
    target: "<= 20 ms",
    baselineLabel: `same, ${fmt(small)} pending`,
    met: (v) => v <= 20,
  }, pick("deepMs"));
}

/** Builds the two data sets, then alternates the probe between a server on each. */
async function measureInbox(run: Run, small: number): Promise<{ big: Inbox[]; base: Inbox[] }> {
  const { cfg, tmp } = run;
  const build = (dir: string, n: number) =>
    run.one("probe_inbox.ts", ["--build", "--dir", dir, "--approvals", String(n)]);
  run.log(`building approval data sets of ${cfg.approvals} and ${small}`);
  const [built] = await Promise.all([
    build(`${tmp}/inbox-big`, cfg.approvals),
    build(`${tmp}/inbox-small`, small),
  ]);
  run.notes.push(
    `Figure 14: built ${fmt(cfg.approvals)} pending approvals over ${fmt(built.sessions)} ` +
      `sessions in ${fmt(built.ms / 1000, 1)} s; deadlines scattered over a month. Each run ` +
      `times ${cfg.queries} queries of a page of 50 (median), the first page and the page after ` +
      "half of the inbox, reached by walking nextCursor with limit=500.",
  );
  const probe = async (s: ServerHandle, n: number) =>
    (await runJson("probe_inbox.ts", [
      ...["--url", s.url, "--approvals", String(n), "--queries", String(cfg.queries)],
    ]))[0] as unknown as Inbox;
  const [bigServer, smallServer] = await Promise.all([
    startServer(["--dir", `${tmp}/inbox-big`]),
    startServer(["--dir", `${tmp}/inbox-small`]),
  ]);
  const big: Inbox[] = [];
  const base: Inbox[] = [];
  try {
    for (let r = 0; r < cfg.reps; r++) {
      big.push(await probe(bigServer, cfg.approvals));
      base.push(await probe(smallServer, small));
    }
  } finally {
    await Promise.all([bigServer.stop(), smallServer.stop()]);
  }
  return { big, base };
}
