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
import type { Clock } from "./clock.ts";
import { keys } from "./hot/hot_store.ts";

/** Keys read per page of a pass. */
const PAGE = 1000;

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
  kv: Deno.Kv;
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
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pass: Promise<number> | undefined;
  #stopped = false;
  /** Keys handed out by passes so far. */
  fired = 0;

  constructor(opts: SchedulerOptions) {
    this.#opts = opts;
  }

  /** Starts the loop: a pass at once (what came due while the process was down), then every `pollMs`. */
  start(): void {
    const pollMs = this.#opts.pollMs ?? 250;
    if (pollMs <= 0 || this.#timer !== undefined) return;
    const now = this.#opts.clock.now();
    for (const job of this.#opts.jobs ?? []) this.#lastRun.set(job.name, now);
    const loop = async () => {
      this.#runJobs();
      await this.runDue().catch((e) => this.#opts.onError?.("due pass", e));
      if (!this.#stopped) {
        this.#timer = setTimeout(loop, pollMs);
        Deno.unrefTimer(this.#timer);
      }
    };
    this.#timer = setTimeout(loop, 0);
    Deno.unrefTimer(this.#timer);
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
  async nextDue(): Promise<number | undefined> {
    for await (const e of this.#opts.kv.list({ prefix: keys.dueAll }, { limit: 1 })) {
      return e.key[1] as number;
    }
    return undefined;
  }

  async #runPass(): Promise<number> {
    const { kv, clock } = this.#opts;
    let handled = 0;
    // Each page is settled before the next is read, so its keys are gone (or kept for a reason).
    for (let page = 0; page < 1000; page++) {
      const now = clock.now();
      const due: Deno.KvKey[] = [];
      const range = { start: keys.dueAll, end: [...keys.dueAll, now + 1] };
      for await (const e of kv.list(range, { limit: PAGE })) due.push(e.key);
      if (due.length === 0) break;
      const results = await Promise.allSettled(due.map((key) => this.#opts.fire(key)));
      for (const r of results) {
        if (r.status === "rejected") this.#opts.onError?.("due key", r.reason);
      }
      handled += due.length;
      this.fired += due.length;
      if (due.length < PAGE || results.every((r) => r.status === "rejected")) break;
    }
    return handled;
  }

  /** Starts each job whose period has passed, unless it is still running; never waits for one. */
  #runJobs(): void {
    const now = this.#opts.clock.now();
    for (const job of this.#opts.jobs ?? []) {
      if (this.#stopped || this.#running.has(job.name)) continue;
      if (now - (this.#lastRun.get(job.name) ?? 0) < job.everyMs) continue;
      this.#lastRun.set(job.name, now);
      this.#running.set(
        job.name,
        job.run().catch((e) => this.#opts.onError?.(job.name, e))
          .finally(() => this.#running.delete(job.name)),
      );
    }
  }
}
