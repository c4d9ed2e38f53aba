/**
 * What every part of the benchmark shares: the configuration, the temp
 * directory, the figures and notes collected so far, and how to run a child
 * process and record a figure from its repetitions.
 *
 * @module
 */
import { runJson, type ServerHandle } from "./_spawn.ts";
import { median } from "./_stats.ts";
import type { Figure } from "./_table.ts";

/** Sizes and counts of one benchmark run. */
export interface Config {
  /** Repetitions of every measurement; each figure is the median. */
  reps: number;
  /** Measured seconds of a throughput run, after `warmupMs`. */
  seconds: number;
  warmupMs: number;
  /** Sessions (one socket each) of figure 2; a client drives 20. */
  many: number;
  /** Patches in flight on the single socket of figures 1 and 9. */
  window: number;
  /** Patches in flight per socket in figure 2. */
  manyWindow: number;
  latSeconds: number;
  /** Rounds per burst size of figure 11. */
  burstRounds: number;
  subs: number;
  fanUpdates: number;
  replay: number;
  /** Sessions in the stored data set of figures 5-7. */
  dataset: number;
  actors: number;
  cold: number;
  queries: number;
  /** Timers due in one second (figure 12), over `timerSessions` sessions. */
  timers: number;
  timerSessions: number;
  /** Tasks of the shared plan (figure 13; a session holds at most 10,000). */
  plan: number;
  /** Agents claiming on that plan, over `agentProcesses` generator processes. */
  agents: number;
  agentProcesses: number;
  /** Longest measured claim run, s, if the plan lasts that long. */
  claimSeconds: number;
  /** Pending approvals in the inbox of figure 14. */
  approvals: number;
}

/** A figure to record: its medians go to `met`; `ratio` asks for value / baseline. */
export type FigureSpec = Omit<Figure, "value" | "baseline" | "runs" | "met" | "ratio"> & {
  ratio?: boolean;
  met: (value: number, baseline: number) => boolean;
};

/** Repetitions of a figure and of its baseline. */
export interface Runs {
  runs: number[];
  baselines: number[];
}

/** One benchmark run in progress. */
export class Run {
  readonly cfg: Config;
  readonly tmp: string;
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  unmeasured = 0;
  #tag = 0;

  constructor(cfg: Config, tmp: string) {
    this.cfg = cfg;
    this.tmp = tmp;
  }

  /** A fresh name for sessions or directories. */
  tag(): string {
    return `b${++this.#tag}`;
  }

  log(s: string): void {
    console.error(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${s}`);
  }

  /** Records a figure from `fn`'s repetitions. A throw records it as unmeasured. */
  async figure(spec: FigureSpec, fn: () => Runs | Promise<Runs>): Promise<Figure> {
    const { ratio, met, ...base } = spec;
    this.log(`${spec.id} ${spec.name.trim()}`);
    let fig: Figure;
    try {
      const { runs, baselines } = await fn();
      const value = median(runs);
      const baseline = median(baselines);
      if (!Number.isFinite(value)) throw new Error("no value");
      fig = { ...base, value, baseline, runs, met: met(value, baseline) };
      if (ratio) fig.ratio = value / baseline;
    } catch (error) {
      this.unmeasured++;
      console.error(`figure ${spec.id} could not be measured:`, error);
      fig = { ...base, value: NaN, baseline: NaN, runs: [] };
    }
    this.figures.push(fig);
    return fig;
  }

  /** Runs `bench/<file>` and returns its first JSON line. */
  async one(file: string, args: string[], v8Flags?: string): Promise<Record<string, number>> {
    return (await runJson(file, args, { v8Flags }))[0] as Record<string, number>;
  }

  /** `--url` of `server`, a fresh `--prefix`, and `extra` as flags. */
  loadArgs(server: ServerHandle, extra: Record<string, string | number>): string[] {
    const rest = Object.entries(extra).flatMap(([k, v]) => [`--${k}`, String(v)]);
    return ["--url", server.url, "--prefix", this.tag(), ...rest];
  }
}
