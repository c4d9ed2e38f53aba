/**
 * The figures measured against live servers (1-4, 8-10): one server with
 * group commit, one without, and one more with group commit for the runs
 * with one frame per message, all fresh, driven over WebSocket by generator
 * processes; figure 3 also drives a WebSocket echo with no runtime and a
 * server that keeps everything in memory, as references. Repetitions
 * alternate between the servers, so noise from other work on the machine
 * falls on all alike.
 *
 * @module
 */
import type { Run, Runs } from "./_run.ts";
import { runJson, type ServerHandle, startServer } from "./_spawn.ts";

/** Calls `fn` `reps` times; each call gives one run and one baseline. */
async function repeat(reps: number, fn: () => Promise<[number, number]>): Promise<Runs> {
  const out: Runs = { runs: [], baselines: [] };
  for (let r = 0; r < reps; r++) {
    const [run, baseline] = await fn();
    out.runs.push(run);
    out.baselines.push(baseline);
  }
  return out;
}

/** Measures figures 1-4 and 8-10 into `run`. */
export async function liveFigures(run: Run): Promise<void> {
  const { cfg, tmp } = run;
  const on = await startServer(["--dir", `${tmp}/on`]);
  const off = await startServer(["--dir", `${tmp}/off`, "--group-commit", "off"]);
  // The runs with one frame per message (1c, 2b) get a server of their own, so that figure 3
  // meets the group-commit server after the same load as before they existed: its p99 grows with
  // the live actors that earlier figures leave behind (6,000 of them in place of 3,000 add ~1 ms).
  const plain = await startServer(["--dir", `${tmp}/plain`]);
  run.notes.push(
    "Baseline (a) runs with groupCommit: false and batchMax: 1 (one KV commit per update); " +
      "groupCommit: false alone still batches one session's queued commands into one commit.",
    "Servers run the app as shipped (rt.app with its default WebSocket settings: flood " +
      "guard and commands in flight per connection are not raised for the benchmark) and the " +
      "runtime's default background tick every 30 s (sweeper, passivation, trimming).",
    `Figure 2: ${cfg.many} sockets, one per session, ${cfg.manyWindow} patches in flight each; ` +
      "the clients are groups of 20 sockets inside one generator process.",
    "Figures 1, 2, 9 and 10: the generators speak batches as client.ts does (?batch=1; the " +
      "patches answered by one message go out again as one message); 1c and 2b send one frame " +
      "per message, as SPEC §5 alone has it, to a third server of the same build.",
  );
  try {
    await bursts(run);
    await throughput(run, on, off, plain);
    await latency(run, on, off);
    await fanOutAndReplay(run, on);
  } finally {
    await Promise.all([on.stop(), off.stop(), plain.stop()]);
  }
}

const NO_BATCHES = "one frame per message (no batches)";

/** Bursts of figure 11, and the p50 a burst of 16 must stay under. */
const BURSTS = [1, 4, 16, 64, 256];
const BURST_16_P50_MS = 2;

/**
 * Figure 11: a burst of N commands issued together through `client.ts` with
 * its defaults, then awaited, against the same client with `batch: false`,
 * on a fresh idle server of its own. Noise of 10% is allowed either way.
 */
async function bursts(run: Run): Promise<void> {
  const { cfg, tmp } = run;
  const server = await startServer(["--dir", `${tmp}/burst`]);
  type Burst = Record<string, Record<"batch" | "single", { p50: number; p99: number }>>;
  const reps: Burst[] = [];
  try {
    for (let r = 0; r < cfg.reps; r++) {
      const args = run.loadArgs(server, { rounds: cfg.burstRounds, bursts: BURSTS.join(",") });
      reps.push((await run.one("load_burst.ts", args)).bursts as unknown as Burst);
    }
  } finally {
    await server.stop();
  }
  run.notes.push(
    `Figure 11: ${cfg.burstRounds} rounds per burst size and run; each round issues N patches ` +
      "through client.ts and awaits them all. The baseline is the same client with batch: false.",
  );
  for (const [i, n] of BURSTS.entries()) {
    for (const p of ["p50", "p99"] as const) {
      const first = i === 0 && p === "p50";
      const target = p === "p99"
        ? "(reference)"
        : n === 16
        ? `< ${BURST_16_P50_MS} ms, <= 1.1x baseline`
        : "<= 1.1x baseline";
      await run.figure({
        id: `11${String.fromCharCode(97 + i)}${p === "p99" ? "'" : ""}`,
        name: `${first ? "" : "  "}burst of ${n} through client.ts defaults, ${p}`,
        unit: "ms",
        target,
        baselineLabel: `client.ts, batch: false, ${p}`,
        ratio: true,
        met: (v, b) => p === "p99" || (v <= 1.1 * b && (n !== 16 || v < BURST_16_P50_MS)),
      }, () => ({
        runs: reps.map((r) => r[n].batch[p]),
        baselines: reps.map((r) => r[n].single[p]),
      }));
    }
  }
}

async function throughput(
  run: Run,
  on: ServerHandle,
  off: ServerHandle,
  plain: ServerHandle,
): Promise<void> {
  const { cfg, tmp } = run;
  const rawKv: number[] = [];
  const rawKvRate = async () => {
    const args = ["--dir", `${tmp}/raw-${run.tag()}`, "--seconds", String(cfg.seconds)];
    rawKv.push((await run.one("load_rawkv.ts", args)).rate);
  };
  const updates = async (s: ServerHandle, extra: Record<string, string | number>) => {
    const timing = { seconds: cfg.seconds, "warmup-ms": cfg.warmupMs };
    const r = await run.one("load_updates.ts", run.loadArgs(s, { ...timing, ...extra }));
    if (r.errors > 0 || r.closed || !(r.rate > 0)) {
      throw new Error(`load_updates: ${JSON.stringify(r)}`);
    }
    return r.rate;
  };

  /** A rate row with no target of its own, under the figure before it. */
  const reference = (
    id: string,
    what: string,
    baselineLabel: string,
    runs: number[],
    baselines: number[],
  ) =>
    run.figure({
      id,
      name: `  same, ${what}`,
      unit: "/s",
      target: "(reference)",
      baselineLabel,
      ratio: true,
      met: () => true,
    }, () => ({ runs, baselines }));

  const single = { sessions: 1, window: cfg.window };
  const oneByOne = { frames: "single" };
  const singleFrames: number[] = [];
  const f1 = await run.figure({
    id: "1",
    name: `acked updates/s, 1 session, 1 socket, ${cfg.window} in flight`,
    unit: "/s",
    target: ">= 20,000/s and >= 4x (a)",
    baselineLabel: "(a) group commit off",
    ratio: true,
    met: (v, b) => v >= 20_000 && v >= 4 * b,
  }, () =>
    repeat(cfg.reps, async () => {
      const pair: [number, number] = [await updates(on, single), await updates(off, single)];
      singleFrames.push(await updates(plain, { ...single, ...oneByOne }));
      await rawKvRate();
      return pair;
    }));
  await reference("1b", "against raw KV (64 sets/atomic)", "(b) raw KV keys/s", f1.runs, rawKv);
  await reference("1c", NO_BATCHES, "batch messages (1)", singleFrames, f1.runs);
  for (const [id, window] of [["1d", 16], ["1e", 256]] as const) {
    const runs: number[] = [];
    const baselines: number[] = [];
    for (let r = 0; r < cfg.reps; r++) {
      runs.push(await updates(on, { sessions: 1, window }));
      baselines.push(await updates(plain, { sessions: 1, window, ...oneByOne }));
    }
    await run.figure({
      id,
      name: `  same, ${window} in flight`,
      unit: "/s",
      target: ">= 1x one frame per message",
      baselineLabel: `${NO_BATCHES}, ${window} in flight`,
      ratio: true,
      met: (v, b) => v >= b,
    }, () => ({ runs, baselines }));
  }

  const many = { sessions: cfg.many, window: cfg.manyWindow };
  const manySingle: number[] = [];
  const f2 = await run.figure({
    id: "2",
    name: `acked updates/s, ${cfg.many} sessions, ${cfg.many / 20} clients x 20 sockets`,
    unit: "/s",
    target: ">= 30,000/s",
    baselineLabel: "group commit off",
    ratio: true,
    met: (v) => v >= 30_000,
  }, () =>
    repeat(cfg.reps, async () => {
      const pair: [number, number] = [await updates(on, many), await updates(off, many)];
      manySingle.push(await updates(plain, { ...many, ...oneByOne }));
      return pair;
    }));
  await reference("2b", NO_BATCHES, "batch messages (2)", manySingle, f2.runs);

  await run.figure({
    id: "9",
    name: "acked updates/s, 1 session with 256 KiB state",
    unit: "/s",
    target: ">= 0.5x of 1 KiB state",
    baselineLabel: "1 KiB state",
    ratio: true,
    met: (v, b) => v >= 0.5 * b,
  }, () =>
    repeat(cfg.reps, async () => [
      await updates(on, { ...single, "state-kib": 256 }),
      await updates(on, { ...single, "state-kib": 1 }),
    ]));

  await run.figure({
    id: "10",
    name: `aggregate acked updates/s (${cfg.many} sessions) vs raw KV`,
    unit: "/s",
    target: ">= 0.5x raw KV",
    baselineLabel: "raw KV, 64 sets/atomic",
    ratio: true,
    met: (v, b) => v >= 0.5 * b,
  }, () => ({ runs: f2.runs, baselines: rawKv }));
}

async function latency(run: Run, on: ServerHandle, off: ServerHandle): Promise<void> {
  // Two more references for figure 3: a WebSocket echo with no runtime (the generator's, the
  // loopback's and Deno's WebSocket's share of an ack) and the runtime with nothing on disk.
  const echo = await startServer([], "echo_server.ts");
  const memory = await startServer(["--memory"]);
  try {
    await latencyFigures(run, on, off, echo, memory);
  } finally {
    await Promise.all([echo.stop(), memory.stop()]);
  }
}

async function latencyFigures(
  run: Run,
  on: ServerHandle,
  off: ServerHandle,
  echo: ServerHandle,
  memory: ServerHandle,
): Promise<void> {
  const { cfg, tmp } = run;
  type Lat = Record<string, number>;
  const lat = {
    on: [] as Lat[],
    off: [] as Lat[],
    raw: [] as Lat[],
    echo: [] as Lat[],
    memory: [] as Lat[],
  };
  const measure = (s: ServerHandle) =>
    run.one("load_latency.ts", run.loadArgs(s, { rate: 1_000, seconds: cfg.latSeconds }));
  await run.figure({
    id: "3",
    name: "ack latency p99 at 1,000 updates/s (open loop)",
    unit: "ms",
    target: "p99 <= 5 ms",
    baselineLabel: "group commit off",
    met: (v) => v <= 5,
  }, async () => {
    for (let r = 0; r < cfg.reps; r++) {
      lat.on.push(await measure(on));
      lat.off.push(await measure(off));
      const raw = ["--dir", `${tmp}/rawlat-${run.tag()}`, "--per", "4", "--rate", "1000"];
      lat.raw.push(await run.one("load_rawkv.ts", [...raw, "--seconds", String(cfg.latSeconds)]));
      lat.echo.push(await measure(echo));
      lat.memory.push(await measure(memory));
    }
    const checked = [
      ["group commit on", lat.on],
      ["group commit off", lat.off],
      ["echo", lat.echo],
      ["in memory", lat.memory],
    ] as const;
    for (const [name, rs] of checked) {
      rs.forEach((r, i) => {
        if (!(r.n > 0)) throw new Error(`load_latency (${name}): ${JSON.stringify(r)}`);
        if (r.errors === 0 && r.answered === r.total) return;
        run.notes.push(
          `Figure 3, ${name}, run ${i + 1}: ${r.errors} of ${r.total} commands refused ` +
            `(${r.lastError ?? "no answer"}), ${r.total - r.answered} unanswered; ` +
            "the latencies are of the acked ones.",
        );
      });
    }
    return { runs: lat.on.map((r) => r.p99), baselines: lat.off.map((r) => r.p99) };
  });
  await run.figure({
    id: "3b",
    name: "  ack latency p50 at 1,000 updates/s",
    unit: "ms",
    target: "(reference)",
    baselineLabel: "group commit off",
    met: () => true,
  }, () => ({ runs: lat.on.map((r) => r.p50), baselines: lat.off.map((r) => r.p50) }));
  /** A reference row: figure 3's p99 against another p99 measured in the same run. */
  const p99Against = (id: string, name: string, baselineLabel: string, baselines: Lat[]) =>
    run.figure({
      id,
      name: `  p99 against ${name}`,
      unit: "ms",
      target: "(reference)",
      baselineLabel,
      ratio: true,
      met: () => true,
    }, () => ({ runs: lat.on.map((r) => r.p99), baselines: baselines.map((r) => r.p99) }));
  await p99Against("3c", "raw KV commits (4 sets) at 1,000/s", "raw KV commit p99", lat.raw);
  await p99Against("3d", "a WebSocket echo with no runtime", "echo p99, same generator", lat.echo);
  await p99Against(
    "3e",
    "the runtime with KV and SQL in memory",
    "in-memory server p99",
    lat.memory,
  );
}

async function fanOutAndReplay(run: Run, on: ServerHandle): Promise<void> {
  const { cfg } = run;
  const fan = (subs: number) =>
    run.one("load_fanout.ts", run.loadArgs(on, { subs, updates: cfg.fanUpdates }));
  await run.figure({
    id: "4",
    name: `fan-out commit -> last of ${cfg.subs} subscribers, p99`,
    unit: "ms",
    target: "<= 50 ms",
    baselineLabel: "1 subscriber, send -> delivery",
    met: (v) => v <= 50,
  }, () => repeat(cfg.reps, async () => [(await fan(cfg.subs)).p99, (await fan(1)).sendToLastP99]));

  await run.figure({
    id: "8",
    name: `reconnect replay of ${cfg.replay} missed events, to welcome`,
    unit: "ms",
    target: "<= 1,000 ms",
    baselineLabel: "snapshot welcome",
    ratio: true,
    met: (v) => v <= 1_000,
  }, async () => {
    const args = run.loadArgs(on, { events: cfg.replay, reps: cfg.reps });
    const r = (await runJson("load_replay.ts", args))[0];
    return { runs: r.replayMs as number[], baselines: r.snapshotMs as number[] };
  });
}
