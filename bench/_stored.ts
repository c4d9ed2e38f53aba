/**
 * The figures measured on a stored data set (5-7): a big one
 * (`cfg.dataset` sessions) and a baseline one a hundredth of its size, each
 * built once per run by probe_dataset.ts. Servers are started on them
 * afresh for every repetition, so each start is a cold start.
 *
 * @module
 */
import type { Run } from "./_run.ts";
import { runJson, startServer } from "./_spawn.ts";
import { median } from "./_stats.ts";

interface Start {
  readyMs: number;
  cold: number;
  warm: number;
  list: number;
  search: number;
}

/** Starts a server on `dir`, times spawn -> first 200 from /healthz, runs load_http, stops it. */
async function coldStart(run: Run, dir: string, sessions: number, rep: number): Promise<Start> {
  const s = await startServer(["--dir", dir]);
  try {
    for (;;) {
      const res = await fetch(`${s.url}/healthz`).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const readyMs = performance.now() - s.spawnedAt;
    const cold = String(Math.min(run.cfg.cold, sessions - 2));
    const args = ["--url", s.url, "--prefix", "d", "--sessions", String(sessions), "--cold", cold];
    args.push("--queries", String(run.cfg.queries), "--offset", String(rep * 7));
    const r = (await runJson("load_http.ts", args))[0] as Record<string, number[]>;
    const [coldMs, warm, list, search] = [r.coldMs, r.warmMs, r.listMs, r.searchMs].map(median);
    return { readyMs, cold: coldMs, warm, list, search };
  } finally {
    await s.stop();
  }
}

/** Builds the data sets and measures figures 5-7 into `run`. */
export async function storedFigures(run: Run): Promise<void> {
  const { cfg, tmp } = run;
  const small = Math.max(10, Math.floor(cfg.dataset / 100));
  run.log(`building data sets of ${cfg.dataset} and ${small} sessions`);
  const build = (dir: string, n: number) =>
    run.one("probe_dataset.ts", ["--dir", dir, "--sessions", String(n)]);
  const built = await build(`${tmp}/big`, cfg.dataset);
  await build(`${tmp}/small`, small);
  const secs = (built.ms / 1000).toFixed(1);
  run.notes.push(`Built ${cfg.dataset} sessions (${built.messages} messages) in ${secs} s.`);

  const big: Start[] = [];
  const base: Start[] = [];
  for (let r = 0; r < cfg.reps; r++) {
    big.push(await coldStart(run, `${tmp}/big`, cfg.dataset, r));
    base.push(await coldStart(run, `${tmp}/small`, small, r));
  }
  const pick = (k: keyof Start) => () => ({
    runs: big.map((x) => x[k]),
    baselines: base.map((x) => x[k]),
  });
  const n = cfg.dataset.toLocaleString("en-US");
  await run.figure({
    id: "6",
    name: `server ready (spawn -> /healthz 200), ${n} sessions stored`,
    unit: "ms",
    target: "<= 1,000 ms",
    baselineLabel: `${small} sessions`,
    met: (v) => v <= 1_000,
  }, pick("readyMs"));
  await run.figure({
    id: "6b",
    name: "first command on a cold session (HTTP PATCH, p50)",
    unit: "ms",
    target: "<= 5 ms",
    baselineLabel: "same, hot session",
    met: (v) => v <= 5,
  }, () => ({ runs: big.map((x) => x.cold), baselines: big.map((x) => x.warm) }));
  await run.figure({
    id: "7",
    name: `list (limit 50) p50, ${n} sessions, SQLite`,
    unit: "ms",
    target: "<= 20 ms",
    baselineLabel: `${small} sessions`,
    met: (v) => v <= 20,
  }, pick("list"));
  await run.figure({
    id: "7b",
    name: `full-text search (limit 50) p50, ${n} sessions`,
    unit: "ms",
    target: "<= 20 ms",
    baselineLabel: `${small} sessions`,
    met: (v) => v <= 20,
  }, pick("search"));

  const actors = Math.min(cfg.actors, cfg.dataset);
  await run.figure({
    id: "5",
    name: `RSS per live idle actor at ${actors.toLocaleString("en-US")} actors`,
    unit: "B",
    target: "<= 10 KiB",
    baselineLabel: "plain session object",
    ratio: true,
    met: (v) => v <= 10 * 1024,
  }, async () => {
    const runs: number[] = [];
    const baselines: number[] = [];
    for (let r = 0; r < cfg.reps; r++) {
      const args = ["--dir", `${tmp}/big`, "--actors", String(actors)];
      const m = await run.one("probe_memory.ts", args, "--expose-gc");
      run.notes.push(`memory run ${r + 1}: JS heap per actor ${m.heapPerActor.toFixed(0)} B`);
      runs.push(m.perActor);
      baselines.push(m.perPlain);
    }
    return { runs, baselines };
  });
}
