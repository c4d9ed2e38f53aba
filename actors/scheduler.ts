/**
 * The one scheduler (SPEC §9.1): what comes due on its own. Timers, approval
 * deadlines and claim leases are found through a KV index by due time
 * (`["d", dueMs, session, type, id]`, written in the same atomic as the
 * record), so a pass reads only what is due, however many sessions are
 * stored; each key becomes a command on its session's actor. Session expiry,
 * passivation and retention run on the same loop as periodic jobs. No KV
 * queues: Deno Deploy has none.
 *
 * Several instances on one KV may each find a key: the actor's versionstamp
 * check and the command's state check make its effect happen once.
 *
 * @module
 */
import type { Clock } from "../src/clock.ts";
import type { HotTier } from "../src/hot/hot_tier.ts";

/** The longest wait between passes while handing keys out fails. */
const MAX_BACKOFF_MS = 5_000;

/** Keys handed out and not yet settled, at most, during a pass. */
const IN_FLIGHT = 20_000;

/** A job that runs every `everyMs`. */
export interface Job {
  /** For logs. */
  name: string;
  /** Period in ms. */
  everyMs: number;
  /** The work; a throw is logged and the job runs again next period. */
  run(): Promise<unknown>;
}

/** Options of {@linkcode Scheduler}. */
export interface SchedulerOptions {
  hot: HotTier;
  clock: Clock;
  /** Handles one due key: queues its command and resolves once it is settled. */
  fire(key: Deno.KvKey): Promise<void>;
  /** How often the due index is read, in ms; 0 reads it only when asked. Default 250. */
  pollMs?: number;
  /** Periodic jobs. */
  jobs?: Job[];
  /** Called when a pass or a job throws. */
  onError?(what: string, error: unknown): void;
}

/** Finds due work and hands it out. */
export class Scheduler {
  readonly #opts: SchedulerOptions;
  readonly #lastRun = new Map<string, number>();
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #pollMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #pass: Promise<number> | undefined;
  #started = false;
  #stopped = false;
  /** Keys whose handing out failed in the last pass. */
  #failed = 0;
  /** The wait before the next pass after a failed one, in ms. */
  #backoff = 0;
  /** Keys handed out by passes so far. */
  fired = 0;

  constructor(opts: SchedulerOptions) {
    this.#opts = opts;
    this.#pollMs = opts.pollMs ?? 250;
  }

  /**
   * Starts the loop: a pass at once (what came due while the process was
   * down), then a pass whenever the next key is due, and at least every
   * `pollMs` (another instance on the same KV may have added keys).
   */
  start(): void {
    if (this.#pollMs <= 0 || this.#started) return;
    this.#started = true;
    const now = this.#opts.clock.now();
    for (const job of this.#opts.jobs ?? []) this.#lastRun.set(job.name, now);
    this.#arm(0);
  }

  /** A key due at `dueMs` was just written here: the loop wakes for it, not at its next poll. */
  wake(dueMs: number): void {
    if (!this.#started || this.#stopped) return;
    this.#arm(Math.max(0, dueMs - this.#opts.clock.now()));
  }

  /** Runs the loop in `delayMs` (at most `cap`, default `pollMs`), unless it runs sooner already. */
  #arm(delayMs: number, cap = this.#pollMs): void {
    const wait = Math.min(Math.max(0, delayMs), cap);
    const at = performance.now() + wait;
    if (this.#timer !== undefined && this.#armedAt <= at) return;
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedAt = Infinity;
      void this.#loop();
    }, wait);
    Deno.unrefTimer(this.#timer);
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    this.#runJobs();
    await this.runDue().catch((e) => this.#opts.onError?.("due pass", e));
    if (this.#stopped) return;
    if (this.#failed > 0) {
      // Keys that could not be handed out (the KV or a store fails) are tried again after a
      // doubling wait, not at once: a failing store is not read in a loop.
      this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(100, this.#backoff * 2));
      return this.#arm(this.#backoff, MAX_BACKOFF_MS);
    }
    this.#backoff = 0;
    const next = await this.nextDue().catch(() => undefined);
    if (this.#stopped) return;
    this.#arm(next === undefined ? this.#pollMs : next - this.#opts.clock.now());
  }

  /** Stops the loop and waits for a pass and jobs in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass?.catch(() => {});
    await Promise.all(this.#running.values());
  }

  /**
   * Hands out every key due by now and waits until each is settled; returns
   * how many. One pass at a time: a call during a pass joins it.
   */
  runDue(): Promise<number> {
    this.#pass ??= this.#runPass().finally(() => this.#pass = undefined);
    return this.#pass;
  }

  /** The earliest due time on the index, or undefined when nothing waits. */
  nextDue(): Promise<number | undefined> {
    return this.#opts.hot.nextDue();
  }

  /**
   * Reads the index up to now and hands each key out as it is read, with at
   * most {@linkcode IN_FLIGHT} unsettled, so firing starts with the first
   * key rather than after a page. A key read again before its commit removed
   * it finds nothing due: its command is a no-op.
   */
  async #runPass(): Promise<number> {
    const { hot, clock } = this.#opts;
    const inFlight = new Set<Promise<void>>();
    let handled = 0;
    this.#failed = 0;
    for await (const key of hot.due(clock.now())) {
      const p: Promise<void> = this.#opts.fire(key)
        .catch((error) => {
          if (this.#failed++ === 0) this.#opts.onError?.("due key", error); // once a pass
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      handled++;
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    this.fired += handled;
    return handled;
  }

  /** Starts each job whose period has passed, unless it is still running; never waits for one. */
  #runJobs(): void {
    const now = this.#opts.clock.now();
    for (const job of this.#opts.jobs ?? []) {
      if (this.#stopped || this.#running.has(job.name)) continue;
      const last = this.#lastRun.get(job.name) ?? 0;
      if (now < last) this.#lastRun.set(job.name, now); // the clock went back: count from now
      if (now - Math.min(last, now) < job.everyMs) continue;
      this.#lastRun.set(job.name, now);
      this.#running.set(
        job.name,
        job.run().catch((e) => this.#opts.onError?.(job.name, e))
          .finally(() => this.#running.delete(job.name)),
      );
    }
  }
}
