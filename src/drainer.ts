/**
 * The outbox drainer of SPEC §2: copies committed events from the KV outbox
 * into SQL and then deletes them. SQL writes are idempotent on (session id,
 * seq), so a crash between the two steps only repeats work. Leftovers are
 * drained on start. A session that reached a terminal status is retired
 * from KV once its last events are in SQL.
 *
 * @module
 */
import type { HistoryBatch, HistoryStore } from "./history/history_store.ts";
import { type HotStore, keys, mayHoldSpilled, outboxCommitKey } from "./hot/hot_store.ts";
import { TERMINAL } from "./session.ts";

/**
 * How long the drainer waits after a commit, under light load, before it
 * copies the outbox into SQL. Every pass reads and deletes outbox keys in the
 * KV that holds the commits acks wait for, and slows them: figure 3's
 * p99 (1,000 updates/s on a fresh server) had a median of 6.3 ms over 9 runs
 * with 20 ms, and 4.4 ms with 100 ms. Under load, 256 pending events start a
 * pass at once.
 */
export const DRAIN_DELAY_MS = 100;

/** Drainer options. */
export interface DrainerOptions {
  hot: HotStore;
  history: HistoryStore;
  /** Called for a terminal session once its final events are in SQL. */
  retire(id: string, version: number): Promise<void>;
  /** Outbox values per pass (each holds the events of one atomic, up to 60 KB). Default 32. */
  batch?: number;
  /** Deletes drained outbox keys; the runtime folds them into the next group commit. Default: its own atomics. */
  deleteKeys?(keys: Deno.KvKey[]): Promise<void>;
  /** How long a notify waits for more commits before a pass, in ms, unless 256 events are pending. Default {@linkcode DRAIN_DELAY_MS}. */
  delayMs?: number;
  /** Called when a pass fails; the drainer retries on the next notify or tick. */
  onError?(error: unknown): void;
}

/** Moves the outbox into SQL, one pass at a time. */
export class OutboxDrainer {
  readonly #opts: DrainerOptions;
  readonly #batch: number;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #passes = new Set<Promise<unknown>>();
  /** Events committed in this process and not yet drained. */
  pending = 0;
  /** Time of the oldest undrained commit of this process, or undefined. */
  #oldest: number | undefined;

  constructor(opts: DrainerOptions) {
    this.#opts = opts;
    this.#batch = opts.batch ?? 32;
  }

  /** Milliseconds the oldest undrained commit has waited: the history lag. */
  lagMs(now = Date.now()): number {
    return this.#oldest === undefined ? 0 : now - this.#oldest;
  }

  /** Tells the drainer that `events` were committed. */
  notify(events = 0): void {
    this.pending += events;
    this.#oldest ??= Date.now();
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    // Wait a moment for more commits, so that one pass (one SQL transaction) carries many.
    if (this.pending < 256 && (this.#opts.delayMs ?? DRAIN_DELAY_MS) > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        if (!this.#running && !this.#closed) this.#running = this.#loop();
      }, this.#opts.delayMs ?? DRAIN_DELAY_MS);
      return;
    }
    this.#start();
  }

  #start(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#loop();
  }

  /** Drains until the outbox is empty. Unbounded under steady load: for close and tests. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    this.#start();
    await this.#running;
  }

  /**
   * Drains everything committed before this call, and waits for passes in
   * flight: afterwards SQL holds every event acknowledged so far. Bounded
   * under steady load, since the outbox is read in commit order.
   */
  async drainCommitted(): Promise<void> {
    const bound = outboxCommitKey();
    while (await this.#pass(keys.outboxAll, bound)) { /* until the first entry is newer */ }
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
    // Passes walk the outbox with a cursor and do not wait for their deletes: the next pass
    // reads past the last key while the deletes ride a group commit. At the end of the
    // outbox the deletes are awaited and the walk starts again from the front.
    let cursor: Deno.KvKey | undefined;
    const tails: Promise<void>[] = [];
    try {
      do {
        this.#again = false;
        while (true) {
          const r = await this.#read(keys.outboxAll, undefined, cursor);
          if (r) {
            cursor = r.last;
            tails.push(r.finish);
            if (tails.length > 4) await tails.shift();
            continue;
          }
          await Promise.all(tails.splice(0));
          if (cursor === undefined) break;
          cursor = undefined;
        }
      } while (this.#again && !this.#closed);
      this.#oldest = undefined;
      this.pending = 0;
    } catch (error) {
      await Promise.allSettled(tails);
      this.#opts.onError?.(error);
    } finally {
      this.#running = undefined;
    }
  }

  /** One whole pass over `prefix`, deletes included; returns whether it found anything. */
  async #pass(prefix: Deno.KvKey, upTo?: string): Promise<boolean> {
    const r = await this.#read(prefix, upTo);
    if (!r) return false;
    await r.finish;
    return true;
  }

  /**
   * Copies the values of `prefix` after `cursor` (committed no later than `upTo`) into SQL. Returns
   * the last key read and the rest of the work (deletes, spilled blobs, retirements), or
   * undefined when there was nothing.
   */
  #read(
    prefix: Deno.KvKey,
    upTo?: string,
    cursor?: Deno.KvKey,
  ): Promise<{ last: Deno.KvKey; finish: Promise<void> } | undefined> {
    const p = this.#readOnce(prefix, upTo, cursor);
    const tracked = p.then((r) => r?.finish);
    this.#passes.add(tracked);
    tracked.finally(() => this.#passes.delete(tracked)).catch(() => {});
    return p;
  }

  async #readOnce(
    prefix: Deno.KvKey,
    upTo?: string,
    cursor?: Deno.KvKey,
  ): Promise<{ last: Deno.KvKey; finish: Promise<void> } | undefined> {
    const { hot, history } = this.#opts;
    const entries: Deno.KvEntry<unknown>[] = [];
    const selector = cursor ? { prefix, start: cursor } : { prefix };
    for await (const e of hot.kv.list(selector, { limit: this.#batch + 1 })) {
      if (cursor && sameKey(e.key, cursor)) continue;
      if (upTo !== undefined && (e.key[1] as string) > upTo) break;
      entries.push(e);
      if (entries.length === this.#batch) break;
    }
    if (entries.length === 0) return undefined;
    // Values of inline entries go to the writer as they are, for it to decode and parse (off the
    // main thread when it is a worker); only values that point at spilled entries are read here.
    const batch: Required<HistoryBatch> = { events: [], sessions: [], encoded: [] };
    const spilled: string[] = [];
    for (const e of entries) {
      if (!mayHoldSpilled(e.value as Uint8Array)) {
        batch.encoded.push(e.value as Uint8Array);
        continue;
      }
      const value = await hot.outboxEntries(e.value as Uint8Array);
      spilled.push(...value.spilled);
      for (const entry of value.entries) {
        batch.events.push(...entry.events);
        if (entry.session) batch.sessions.push(entry.session);
      }
    }
    const summary = await history.write(batch);
    this.pending = Math.max(0, this.pending - summary.events);
    const drained = entries.map((e) => e.key);
    const finish = (async () => {
      if (this.#opts.deleteKeys) {
        await this.#opts.deleteKeys(drained);
      } else {
        for (let i = 0; i < drained.length; i += 1000) {
          const op = hot.kv.atomic();
          for (const k of drained.slice(i, i + 1000)) op.delete(k);
          await op.commit();
        }
      }
      await Promise.all(spilled.map((k) => hot.blobs.delete(k)));
      for (const s of summary.sessions) {
        if (TERMINAL.has(s.status)) await this.#opts.retire(s.id, s.version);
      }
    })();
    return { last: drained[drained.length - 1], finish };
  }
}

function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
