/**
 * The performance table (issue 6). Spawns `bench/server.ts` and the load
 * generators as separate processes, repeats every measurement, and prints
 * each figure's median beside a baseline measured in the same run; writes
 * the lot to `bench/out/results.json`.
 *
 *   deno task bench            full run (3 repetitions, 100k-session data set)
 *   deno task bench --smoke    small and quick (CI); exits non-zero only when a
 *                              figure cannot be measured, never for a missed target
 *   --reps N, --dataset N      override the repetitions or the data set size
 *   --only live|stored|coordination
 *                              only the live-server figures (1-4, 8-11), the stored ones (5-7)
 *                              or those of coordination (12-14: timers, claims, the approvals inbox)
 *
 * @module
 */
import { flags, num } from "./_args.ts";
import { coordinationFigures } from "./_coordination.ts";
import { liveFigures } from "./_live.ts";
import { type Config, Run } from "./_run.ts";
import { storedFigures } from "./_stored.ts";
import { table } from "./_table.ts";

const FULL: Config = {
  reps: 3,
  seconds: 5,
  warmupMs: 1_000,
  many: 1_000,
  window: 1_000,
  manyWindow: 10,
  latSeconds: 10,
  burstRounds: 200,
  subs: 1_000,
  fanUpdates: 200,
  replay: 10_000,
  dataset: 100_000,
  actors: 10_000,
  cold: 20,
  queries: 50,
  timers: 10_000,
  timerSessions: 100,
  plan: 10_000,
  agents: 200,
  agentProcesses: 4,
  claimSeconds: 20,
  approvals: 100_000,
};

const SMOKE: Config = {
  ...FULL,
  reps: 1,
  seconds: 1.5,
  warmupMs: 400,
  many: 200,
  latSeconds: 1,
  burstRounds: 20,
  subs: 100,
  fanUpdates: 20,
  replay: 2_000,
  dataset: 5_000,
  actors: 2_000,
  cold: 5,
  queries: 10,
  timers: 2_000,
  plan: 2_000,
  agents: 20,
  agentProcesses: 2,
  claimSeconds: 3,
  approvals: 5_000,
};

const f = flags();
const smoke = f.has("smoke");
const base = smoke ? SMOKE : FULL;
const cfg = { ...base, reps: num(f, "reps", base.reps), dataset: num(f, "dataset", base.dataset) };
const tmp = await Deno.makeTempDir({ prefix: "denizen-bench-" });
const run = new Run(cfg, tmp);
const only = f.get("only");
const parts = [liveFigures, storedFigures, coordinationFigures].filter((p) =>
  only === undefined || p.name.toLowerCase().startsWith(only)
);
for (const part of parts) {
  try {
    await part(run);
  } catch (error) {
    run.unmeasured++;
    console.error(`${part.name} stopped: figures after this point were not measured:`, error);
  }
}
await Deno.remove(tmp, { recursive: true }).catch(() => {});

const figures = run.figures.sort((a, b) =>
  parseFloat(a.id) - parseFloat(b.id) || a.id.localeCompare(b.id)
);
const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
  .match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown";
const machine = {
  cores: navigator.hardwareConcurrency,
  memoryGiB: +(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1),
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  cpu,
  loadavg: Deno.loadavg(),
};
const command = `deno task bench${Deno.args.length ? ` ${Deno.args.join(" ")}` : ""}`;
console.log(
  `\nDenizen benchmark${smoke ? " (smoke)" : ""}: medians of ${cfg.reps} run(s)\n` +
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${cpu}, Deno ${machine.deno}, ` +
    `load ${machine.loadavg.map((x) => x.toFixed(2)).join(" ")}\n` +
    `reproduce: ${command}\n\n${table(figures)}\n\n${run.notes.map((x) => `- ${x}`).join("\n")}`,
);
await Deno.mkdir(new URL("./out/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./out/results.json", import.meta.url),
  JSON.stringify({ machine, command, smoke, config: cfg, figures, notes: run.notes }, null, 2),
);
if (run.unmeasured > 0) {
  console.error(`${run.unmeasured} figure(s) or part(s) could not be measured`);
  Deno.exit(1);
}
