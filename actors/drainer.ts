/**
 * The outbox drainer of SPEC §2: copies committed events from the KV outbox
 * into SQL and then deletes them. SQL writes are idempotent on (session id,
 * seq), so a crash between the two steps only repeats work. Leftovers are
 * drained on start. A session that reached a terminal status is retired
 * from KV once its last events are in SQL.
 *
 * The outbox values this process commits are handed to the drainer as they
 * were written ({@linkcode OutboxDrainer.committed}), so that its passes do
 * not read them back from KV, where reads slow the commits acks wait for. It
 * walks the KV outbox on start, after a failed pass, when the values it holds
 * pass {@linkcode HELD_BYTES}, on `flush`, and when asked for everything
 * committed so far (`drainCommitted`, which the runtime's tick calls too, so
 * another instance's leftovers are drained).
 *
 * A pass that fails (SQLite busy or locked, PostgreSQL restarting) changes
 * nothing: what it read is still in the KV outbox. The drainer tries again
 * after a backoff ({@linkcode RETRY_MIN_MS}, doubling up to
 * {@linkcode RETRY_MAX_MS}), with or without new commits, and walks the
 * outbox from its start, so SQL catches up once the database is back.
 *
 * @module
 */
import type { HistoryBatch, HistoryStore } from "../src/history/history_store.ts";
import type { Clock } from "../src/clock.ts";
import type { HotTier } from "../src/hot/hot_tier.ts";
import type { CommittedOutbox } from "../src/hot/outbox.ts";
import { TERMINAL } from "../src/session.ts";

/**
 * How long the drainer waits after a commit, under light load, before a pass
 * copies it into SQL; under load, 256 pending events start a pass at once.
 * Passes share KV with the commits acks wait for (docs/performance.md).
 */
export const DRAIN_DELAY_MS = 100;

/** Outbox values a pass of a walk reads from KV (each holds the events of one atomic, up to 60 KB). */
const WALK_BATCH = 32;

/** Bytes of committed outbox values the drainer holds at most; past that, it walks KV instead. */
export const HELD_BYTES = 16 * 1024 * 1024;

/**
 * Bytes of held values one pass copies (the value that crosses it goes too),
 * and at most 1,000 values: one SQL transaction's own cost is large beside a
 * row's, so a pass carries many commits (docs/performance.md).
 */
export const PASS_BYTES = 2 * 1024 * 1024;

/** The first wait before a failed pass is tried again; each failure in a row doubles it. */
export const RETRY_MIN_MS = 100;

/** The longest wait between two tries of a failing pass. */
export const RETRY_MAX_MS = 5_000;

/** Drainer options. */
export interface DrainerOptions {
  hot: HotTier;
  history: HistoryStore;
  /** The runtime's clock: the history lag is wall-clock time. */
  clock: Clock;
  /** Called for a terminal session once its final events are in SQL. */
  retire(id: string, version: number): Promise<void>;
  /** Deletes drained outbox keys; the runtime spreads them over the group commits that follow. */
  deleteKeys(keys: Deno.KvKey[]): Promise<void>;
  /** Called when a pass fails; the drainer tries again after a backoff. */
  onError?(error: unknown): void;
}

/** Moves the outbox into SQL, one pass at a time. */
export class OutboxDrainer {
  readonly #opts: DrainerOptions;
  #running: Promise<void> | undefined;
  #again = false;
  /** When the first commit after the current loop iteration began was notified. */
  #againAt: number | undefined;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #passes = new Set<Promise<unknown>>();
  /** Events committed in this process and not yet drained. */
  pending = 0;
  /** Time of the oldest undrained commit of this process, or undefined. */
  #oldest: number | undefined;
  /** Outbox values this process committed and no pass has taken yet, in commit order. */
  #held: CommittedOutbox[] = [];
  #heldBytes = 0;
  /** Set when the KV outbox may hold values that #held does not: the next loop walks it. */
  #walk = true;
  /** Failed loops in a row; 0 once one succeeds. */
  #failures = 0;
  /** When the next try of a failing loop is due (`performance.now()`). */
  #retryAt = 0;

  constructor(opts: DrainerOptions) {
    this.#opts = opts;
  }

  /** Milliseconds the oldest undrained commit has waited: the history lag. */
  lagMs(now = this.#opts.clock.now()): number {
    return this.#oldest === undefined ? 0 : now - this.#oldest;
  }

  /**
   * Takes the outbox values of a commit as they were written, for a pass to
   * copy without reading them back from KV.
   */
  committed(values: readonly CommittedOutbox[]): void {
    if (this.#walk) return; // the walk reads them from KV
    for (const v of values) {
      this.#held.push(v);
      this.#heldBytes += v.value.byteLength;
    }
    if (this.#heldBytes > HELD_BYTES) this.#drop();
  }

  /** The next pass's share of the held values: up to {@linkcode PASS_BYTES}, in commit order. */
  #takeHeld(): CommittedOutbox[] {
    let n = 0;
    let bytes = 0;
    while (n < this.#held.length && n < 1000 && (n === 0 || bytes < PASS_BYTES)) {
      bytes += this.#held[n++].value.byteLength;
    }
    this.#heldBytes -= bytes;
    return this.#held.splice(0, n);
  }

  /** Forgets the held values: they are in KV, and the next loop walks it. */
  #drop(): void {
    this.#held = [];
    this.#heldBytes = 0;
    this.#walk = true;
  }

  /** Tells the drainer that `events` were committed. */
  notify(events = 0): void {
    this.pending += events;
    this.#oldest ??= this.#opts.clock.now();
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      this.#againAt ??= this.#opts.clock.now();
      return;
    }
    this.#schedule();
  }

  /** Failed passes in a row; 0 once a pass succeeds. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Starts a loop now when much is waiting, else after the delay, so that one
   * pass (one SQL transaction) carries many commits. After a failure it waits
   * for the backoff, however much is waiting.
   */
  #schedule(): void {
    const wait = this.#failures > 0
      ? this.#retryAt - performance.now()
      : this.#busy()
      ? 0
      : DRAIN_DELAY_MS;
    if (wait <= 0) return this.#start();
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (!this.#running && !this.#closed) this.#running = this.#loop();
    }, wait);
  }

  /** Whether enough waits that the next pass should not wait for more. */
  #busy(): boolean {
    return this.pending >= 256 || this.#heldBytes >= PASS_BYTES;
  }

  #start(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#loop();
  }

  /** Walks the KV outbox until it is empty: for close and tests (under steady heavy load, unbounded). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    this.#drop();
    this.#start();
    await this.#running;
  }

  /**
   * Drains everything committed before this call, and waits for passes in
   * flight: afterwards SQL holds every event acknowledged so far. Bounded
   * under steady load, since the outbox is read in commit order.
   */
  async drainCommitted(): Promise<void> {
    const bound = this.#opts.hot.outboxBound();
    while (await this.#pass(bound)) { /* until the first entry is newer */ }
    await this.quiesce();
  }

  /** Waits for the pass in progress, so that nothing it read is written after this returns. */
  async quiesce(): Promise<void> {
    while (this.#passes.size > 0) await Promise.allSettled(this.#passes);
  }

  /** Stops after the pass in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    // Passes do not wait for their deletes: the next pass goes on while the deletes ride a
    // group commit. A walk of the KV outbox reads past the last key with a cursor; at its end
    // the deletes are awaited and it starts again from the front, until that finds nothing.
    const tails: Promise<void>[] = [];
    const pass = async (r: { finish: Promise<void> }) => {
      tails.push(r.finish);
      if (tails.length > 4) await tails.shift();
    };
    try {
      do {
        this.#again = false;
        this.#againAt = undefined;
        if (this.#walk) {
          // Values committed from now on are held as well; a pass may then copy one twice,
          // which the idempotent writes make harmless.
          this.#walk = false;
          let cursor: Deno.KvKey | undefined;
          while (true) {
            const r = await this.#read(undefined, cursor);
            if (r) {
              cursor = r.last;
              await pass(r);
              continue;
            }
            await Promise.all(tails.splice(0));
            if (cursor === undefined) break;
            cursor = undefined;
          }
        }
        // Values held since this iteration began go in one pass unless there are many of them;
        // those committed during the passes wait for the next iteration (see the loop's end).
        while (this.#held.length > 0) {
          await pass(await this.#track(this.#copy(this.#takeHeld())));
          if (!this.#busy()) break;
        }
        await Promise.all(tails.splice(0));
        // Commits made during the passes go on at once only if many wait; otherwise after
        // the delay, so that a steady light load is copied in a few large passes.
      } while (this.#again && !this.#closed && (this.#busy() || this.#walk));
      if (this.#again) {
        this.#oldest = this.#againAt;
      } else {
        this.#oldest = undefined;
        this.pending = 0;
      }
      this.#failures = 0;
    } catch (error) {
      await Promise.allSettled(tails);
      this.#drop(); // what failed is still in KV
      this.#retryAt = performance.now() +
        Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.#failures, 16));
      this.#failures++;
      this.#opts.onError?.(error);
    } finally {
      this.#running = undefined;
      if ((this.#again || this.#failures > 0) && !this.#closed) this.#schedule();
    }
  }

  /** One whole pass, deletes included; returns whether it found anything. */
  async #pass(upTo?: string): Promise<boolean> {
    const r = await this.#read(upTo);
    if (!r) return false;
    await r.finish;
    return true;
  }

  /**
   * Copies the outbox values after `cursor` (committed no later than `upTo`) into SQL. Returns
   * the last key read and the rest of the work (deletes, spilled blobs, retirements), or
   * undefined when there was nothing.
   */
  #read(
    upTo?: string,
    cursor?: Deno.KvKey,
  ): Promise<{ last: Deno.KvKey; finish: Promise<void> } | undefined> {
    return this.#track(this.#readOnce(upTo, cursor));
  }

  /** Counts `p` among the passes in flight until its deletes are done (see `quiesce`). */
  #track<T extends { finish: Promise<void> } | undefined>(p: Promise<T>): Promise<T> {
    const tracked = p.then((r) => r?.finish);
    this.#passes.add(tracked);
    tracked.finally(() => this.#passes.delete(tracked)).catch(() => {});
    return p;
  }

  async #readOnce(
    upTo?: string,
    after?: Deno.KvKey,
  ): Promise<{ last: Deno.KvKey; finish: Promise<void> } | undefined> {
    const values = await this.#opts.hot.readOutbox({ after, upTo, limit: WALK_BATCH });
    return values.length === 0 ? undefined : await this.#copy(values);
  }

  /**
   * Copies outbox values into SQL. Returns the last key and the rest of the work (deletes,
   * spilled blobs, retirements).
   */
  async #copy(values: CommittedOutbox[]): Promise<{ last: Deno.KvKey; finish: Promise<void> }> {
    const { hot, history } = this.#opts;
    // Values of inline entries go to the writer as they are, for it to decode and parse (off the
    // main thread when it is a worker); only values that point at spilled entries are read here.
    const batch: Required<HistoryBatch> = { events: [], sessions: [], encoded: [] };
    const spilled: string[] = [];
    for (const e of values) {
      if (!hot.mayHoldSpilled(e.value)) {
        batch.encoded.push(e.value);
        continue;
      }
      const value = await hot.outboxEntries(e.value);
      spilled.push(...value.spilled);
      for (const entry of value.entries) {
        batch.events.push(...entry.events);
        if (entry.session) batch.sessions.push(entry.session);
      }
    }
    const summary = await history.write(batch);
    // Under steady load one loop can run for minutes: a write that goes through ends a run of
    // failures, so that the next failure waits the shortest backoff again, not the longest.
    this.#failures = 0;
    this.pending = Math.max(0, this.pending - summary.events);
    const drained = values.map((e) => e.key);
    const finish = (async () => {
      await this.#opts.deleteKeys(drained);
      await hot.dropSpilled(spilled);
      for (const s of summary.sessions) {
        if (TERMINAL.has(s.status)) await this.#opts.retire(s.id, s.version);
      }
    })();
    return { last: drained[drained.length - 1], finish };
  }
}
