/**
 * The crash phase of the soak: clients pipeline commands with ids while the
 * server is SIGKILLed at random moments and restarted; then the checks
 * listed in `main.ts`.
 *
 * @module
 */
import { connect, type DenizenClient } from "../client.ts";
import { createRuntime } from "../mod.ts";
import { soakKind } from "./_kind.ts";
import type { SoakServer } from "./_soak_server.ts";

/** Options of {@linkcode crashPhase}. */
export interface CrashOptions {
  /** How long clients send, in seconds. */
  seconds: number;
  /** Sessions, each with two clients. */
  sessions: number;
  /** Commands each client keeps in flight. */
  window: number;
  /** Kills at least, even if that takes longer than `seconds`. */
  minKills: number;
  /** The pause before each kill is drawn from this range, in ms. */
  killEvery: [number, number];
}

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
  readonly #base: string;
  readonly #window: number;
  #n = 0;

  constructor(base: string, window: number, session: string, name: string) {
    this.#base = base;
    this.#window = window;
    this.session = session;
    this.name = name;
  }

  async open(): Promise<void> {
    this.client = await connect<typeof soakKind>(`${this.#base}/v1/sessions/${this.session}/ws`, {
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
      while (inFlight.size < this.#window && performance.now() < until) {
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

/** Runs the crash phase on `server` (started); reports each broken guarantee to `violation`. */
export async function crashPhase(
  server: SoakServer,
  opts: CrashOptions,
  violation: (s: string) => void,
): Promise<Record<string, unknown>> {
  const { seconds, sessions, window, minKills, killEvery } = opts;
  const agent = (session: string, name: string) => new Agent(server.base, window, session, name);
  const ids = Array.from({ length: sessions }, (_, i) => `soak-${i}`);
  for (const id of ids) {
    const res = await server.http("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, kind: "soak" }),
    });
    if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${await res.text()}`);
    const plan = await server.http(`/v1/sessions/${id}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        tasks: Array.from({ length: 500 }, (_, i) => ({ id: `task-${i}`, title: `T${i}` })),
      }),
    });
    if (plan.status !== 201) throw new Error(`plan ${id}: ${plan.status} ${await plan.text()}`);
  }
  const agents = ids.flatMap((id, i) => [agent(id, `a${i}`), agent(id, `b${i}`)]);
  await Promise.all(agents.map((a) => a.open()));

  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const killing = (async () => {
    while (performance.now() < until - 2_000 || server.kills < minKills) {
      const [lo, hi] = killEvery;
      await new Promise((r) => setTimeout(r, lo + Math.random() * (hi - lo)));
      if (performance.now() > until - 1_000 && server.kills >= minKills) break;
      await server.kill();
    }
  })();
  await Promise.all([...agents.map((a) => a.run(until)), killing]);
  const runSeconds = (performance.now() - t0) / 1000;

  // Everything acked or refused by now; timers come due within 2 s of being scheduled.
  const sent = agents.flatMap((a) => a.sent);
  const pending = sent.filter((s) => s.outcome === undefined).length;
  if (pending > 0) violation(`${pending} commands never answered`);

  async function sessionOf(
    id: string,
  ): Promise<{ state: Record<string, unknown>; version: number }> {
    const res = await server.http(`/v1/sessions/${id}`);
    return await res.json();
  }

  const timerDeadline = performance.now() + 15_000;
  for (const a of agents) {
    const acked = a.sent.filter((s) => s.kind === "timer" && s.outcome === "acked").map((s) =>
      s.id
    );
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

  // Stop the server and read everything back through a runtime on the same files.
  await server.stop();
  const rt = await createRuntime({ dataDir: server.dir, kinds: [soakKind], tickMs: 0 });
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
          if (s.outcome === "acked" && counts !== 1) {
            violation(`${s.id}: acked, present ${counts}x`);
          }
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
            violation(
              `${id}/${task.id}: acked to ${a.name}, held by ${tasks.get(task.id)?.holder}`,
            );
          }
        }
      }
    }
    for (const t of tasks.values()) {
      if (t.status === "claimed" && !claimedBy.has(`${id}/${t.id}`)) {
        // An unacked claim (its ack lost in a kill, its resend deduped) still names one holder.
        if (!agents.some((a) => a.name === t.holder)) {
          violation(`${id}/${t.id}: held by a stranger`);
        }
      }
    }
  }
  await rt.close();

  const count = (k: Kind, o: Sent["outcome"]) =>
    sent.filter((s) => s.kind === k && s.outcome === o).length;
  if (server.kills < minKills) violation(`only ${server.kills} kills, fewer than ${minKills}`);
  return {
    seconds: +runSeconds.toFixed(1),
    kills: server.kills,
    restartMsMedian: server.downMs.sort((a, b) => a - b)[Math.floor(server.downMs.length / 2)] ?? 0,
    sessions,
    clients: agents.length,
    commands: sent.length,
    acked: sent.filter((s) => s.outcome === "acked").length,
    refused: sent.filter((s) => s.outcome === "failed").length,
    byKind: Object.fromEntries(
      [...new Set(KINDS)].map((
        k,
      ) => [k, { acked: count(k, "acked"), refused: count(k, "failed") }]),
    ),
    events,
    claims: claimedBy.size,
  };
}
