/**
 * Group commit: every unit handed in while an atomic is in flight goes out
 * together in the next single atomic of the hot tier, within KV's limits
 * per atomic (100 checks, 1,000 mutations, 819,200 bytes). One check per
 * session. When a packed atomic fails its checks, each unit is retried alone
 * so that a conflict is resolved session by session. Admission
 * (`admission.ts`) keeps the queue short; the drainer's deletes ride the
 * atomics (`riding_deletes.ts`).
 *
 * @module
 */
import { type Clock, monotonicClock } from "../src/clock.ts";
import { UnavailableError } from "../src/errors.ts";
import type { CommitObserver } from "../src/metrics.ts";
import { type CommittedOutbox, OUTBOX_VALUE_BYTES } from "../src/hot/outbox.ts";
import type { CommitUnit, HotTier, WriteResult } from "../src/hot/hot_tier.ts";
import { Admission } from "./admission.ts";
import { DELETE_BYTES, DeleteQueue, IDLE_DELETES_MS, type Rider } from "./riding_deletes.ts";

/** KV's limits per atomic, measured on Deno 2.9, with headroom for keys and framing. */
export const ATOMIC_LIMITS = { checks: 100, mutations: 1000, bytes: 780 * 1024 } as const;

/** How a unit ended: committed with the new versionstamp, or lost its check. */
export type CommitOutcome = { ok: true; versionstamp: string } | { ok: false };

/** Keys the shared outbox values of an atomic of `bytes` take, at most: one a value's bytes, and one more. */
function outboxKeys(bytes: number): number {
  return Math.ceil(bytes / OUTBOX_VALUE_BYTES) + 1;
}

interface Pending {
  unit: CommitUnit;
  resolve(outcome: CommitOutcome): void;
  reject(error: unknown): void;
}

/**
 * A KV commit that did not finish within its bound. It may still land, so
 * its outcome is unknown: nothing it wrote may be undone (its blobs stay),
 * and a client resends with the same command id, which applies once.
 */
export class CommitTimeoutError extends UnavailableError {
  /** The bound that passed, in ms. */
  constructor(ms: number) {
    super(
      `KV commit did not finish in ${ms} ms; its outcome is unknown: resend with the same command id`,
    );
  }
}

/** Batches commit units from many actors into as few atomics as KV allows. */
export class GroupCommitter {
  readonly #hot: HotTier;
  readonly #clock: Clock;
  readonly #observer?: CommitObserver;
  readonly #outbox?: (values: CommittedOutbox[]) => void;
  readonly #enabled: boolean;
  readonly #admission: Admission;
  readonly #deletes = new DeleteQueue();
  #queue: Pending[] = [];
  #inFlight = 0;
  readonly #maxInFlight: number;
  readonly #commitTimeoutMs: number;
  /** When the last atomic started, by the clock. */
  #lastStart = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #idleDeletesMs: number;

  /**
   * `grouped: false` commits every unit alone and admits every session at
   * once: the baseline of the benchmark. `room` is how many sessions may be
   * admitted at once; by default as many as the atomics in flight can check.
   * `outbox` receives the outbox values of each atomic once it committed,
   * before its units are resolved. `clock` paces the idle deletes and times
   * commits; a monotonic clock by default.
   */
  constructor(
    hot: HotTier,
    opts: {
      observer?: CommitObserver;
      outbox?: (values: CommittedOutbox[]) => void;
      grouped?: boolean;
      maxInFlight?: number;
      room?: number;
      /** Default {@linkcode IDLE_DELETES_MS}. */
      idleDeletesMs?: number;
      /** How long a KV commit may take before its units are answered 503. Default 10 s. */
      commitTimeoutMs?: number;
      clock?: Clock;
    } = {},
  ) {
    this.#hot = hot;
    this.#clock = opts.clock ?? monotonicClock;
    this.#commitTimeoutMs = opts.commitTimeoutMs ?? 10_000;
    this.#idleDeletesMs = opts.idleDeletesMs ?? IDLE_DELETES_MS;
    this.#maxInFlight = opts.maxInFlight ?? 2;
    this.#observer = opts.observer;
    this.#outbox = opts.outbox;
    this.#enabled = opts.grouped ?? true;
    this.#admission = new Admission(
      this.#enabled ? opts.room ?? ATOMIC_LIMITS.checks * this.#maxInFlight : Infinity,
    );
  }

  /**
   * Waits for admission (see `admission.ts`) and returns the function that
   * ends it. A session calls this before it takes its next batch from its
   * mailbox, and ends it once that batch's commit is done.
   */
  admit(): Promise<() => void> {
    return this.#admission.admit();
  }

  /** Sessions waiting for admission. */
  get waiting(): number {
    return this.#admission.waiting;
  }

  /** Commits `unit` in the next atomic. Throws what KV throws. */
  commit(unit: CommitUnit): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ unit, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Deletes `keys`, unchecked, in later atomics: a few ride each atomic of
   * units (see `riding_deletes.ts`), and once no atomic has started for
   * `idleDeletesMs`, the rest go in atomics of their own. Resolves once every
   * key is deleted; rejects if an atomic of deletes alone throws.
   */
  deleteLater(keys: readonly Deno.KvKey[]): Promise<void> {
    const done = this.#deletes.add(keys);
    this.#pump();
    return done;
  }

  /** Starts atomics while fewer than `maxInFlight` are in flight. */
  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#enabled ? this.#take() : [this.#queue.shift()!];
      this.#started(
        this.#commitBatch(batch).catch((error) => batch.forEach((p) => p.reject(error))),
      );
    }
    if (this.#deletes.size > 0 && this.#inFlight === 0 && this.#idleTimer === undefined) {
      // Nothing in flight: waiting deletes go alone once no atomic has started for a while.
      const wait = Math.max(0, this.#lastStart + this.#idleDeletesMs - this.#clock.now());
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        if (this.#inFlight > 0 || this.#deletes.size === 0) return; // its end pumps again
        if (this.#clock.now() - this.#lastStart < this.#idleDeletesMs) return this.#pump();
        this.#started(this.#deleteAlone());
      }, wait);
    }
  }

  /** Counts an atomic in flight until `done` settles, then pumps again. */
  #started(done: Promise<void>): void {
    this.#inFlight++;
    this.#lastStart = this.#clock.now();
    done.finally(() => {
      this.#inFlight--;
      this.#pump();
    });
  }

  /**
   * Up to 1,000 waiting deletes in an atomic of their own. If KV throws, every
   * waiting delete is given up rather than retried here: the keys are still
   * in KV, where the drainer finds them again.
   */
  async #deleteAlone(): Promise<void> {
    const riders = this.#deletes.take(ATOMIC_LIMITS.mutations, 0);
    try {
      await this.#hot.deleteKeys(riders.map((r) => r.key));
    } catch (error) {
      this.#deletes.fail(riders, error);
      return;
    }
    this.#deleted(riders);
  }

  /** The waiting deletes that ride an atomic with `mutations` mutations and `bytes` bytes already. */
  #riders(mutations: number, bytes: number): Rider[] {
    const room = Math.min(
      ATOMIC_LIMITS.mutations - mutations,
      Math.floor((ATOMIC_LIMITS.bytes - bytes) / DELETE_BYTES),
    );
    return this.#deletes.take(room, ATOMIC_LIMITS.mutations);
  }

  /** Settles the deletes `riders` made; stops the idle timer once none wait. */
  #deleted(riders: readonly Rider[]): void {
    this.#deletes.deleted(riders);
    if (this.#deletes.size === 0 && this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
  }

  #take(): Pending[] {
    const batch: Pending[] = [];
    let mutations = 0;
    let bytes = 0;
    let checks = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0].unit;
      if (next.check && checks >= ATOMIC_LIMITS.checks) break;
      const adds = next.mutations.length + (next.outbox?.length ? 1 : 0);
      // Keep room for the shared outbox values: about one per value's bytes of fragments.
      const fits = mutations + adds + outboxKeys(bytes + next.bytes) <= ATOMIC_LIMITS.mutations &&
        bytes + next.bytes <= ATOMIC_LIMITS.bytes;
      if (batch.length > 0 && !fits) break;
      batch.push(this.#queue.shift()!);
      if (next.check) checks++;
      mutations += next.mutations.length;
      bytes += next.bytes;
    }
    return batch;
  }

  async #commitBatch(batch: Pending[]): Promise<void> {
    const started = this.#clock.now();
    let mutations = 0;
    let bytes = 0;
    let fragments = 0;
    for (const p of batch) {
      mutations += p.unit.mutations.length;
      bytes += p.unit.bytes;
      fragments += p.unit.outbox?.length ?? 0;
    }
    const riders = this.#riders(mutations + (fragments > 0 ? outboxKeys(bytes) : 0), bytes);
    let result: WriteResult;
    try {
      const units = batch.map((p) => p.unit);
      result = await this.#bounded(this.#hot.write(units, riders.map((r) => r.key)));
    } catch (error) {
      this.#deletes.putBack(riders);
      // A commit past its bound may still land: retrying its units alone could apply them twice.
      if (batch.length === 1 || error instanceof CommitTimeoutError) {
        for (const p of batch) p.reject(error);
        return;
      }
      return this.#one(batch);
    }
    if (!result.ok) {
      this.#deletes.putBack(riders);
      if (batch.length === 1) return batch[0].resolve({ ok: false });
      return this.#one(batch);
    }
    this.#deleted(riders);
    this.#observer?.committed(batch.length, mutations, this.#clock.now() - started);
    if (result.outbox.length > 0) this.#outbox?.(result.outbox);
    for (const p of batch) p.resolve({ ok: true, versionstamp: result.versionstamp });
  }

  /** `commit`, or a {@linkcode CommitTimeoutError} once it has taken `commitTimeoutMs`. */
  #bounded<T>(commit: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CommitTimeoutError(this.#commitTimeoutMs)),
        this.#commitTimeoutMs,
      );
    });
    return Promise.race([commit, late]).finally(() => clearTimeout(timer));
  }

  /** Retries each unit alone, so one session's conflict or error does not fail the others. */
  async #one(batch: Pending[]): Promise<void> {
    for (const p of batch) await this.#commitBatch([p]);
  }
}
