/**
 * Group commit: every unit handed in while an atomic is in flight goes out
 * together in the next single `kv.atomic()`, within KV's limits per atomic
 * (100 checks, 1,000 mutations, 819,200 bytes). One check per session. When a
 * packed atomic fails its checks, each unit is retried alone so that a
 * conflict is resolved session by session.
 *
 * Admission keeps the queue short: a session takes its next batch only once
 * fewer sessions are between taking a batch and having it committed than
 * the atomics in flight can check (see {@linkcode GroupCommitter.admit}).
 * Until then its commands gather in its mailbox, so that under load each
 * session commits many commands at once instead of waiting in the queue
 * with a unit built from a few.
 *
 * @module
 */
import { UnavailableError } from "../src/errors.ts";
import type { CommitObserver } from "../src/metrics.ts";
import { type CommittedOutbox, keys, outboxCommitKey } from "../src/hot/hot_store.ts";

/** Bytes of fragments per shared outbox value, under KV's 65,536 per value. */
const OUTBOX_VALUE_BYTES = 60_000;

/** Packs UTF-8 JSON fragments into as few JSON-array values as fit in one KV value each. */
function packOutbox(fragments: readonly Uint8Array[]): Uint8Array[] {
  const values: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 1; // "[" and, per fragment, its bytes and a "," or the closing "]"
  for (const f of fragments) {
    if (group.length > 0 && size + f.byteLength + 1 > OUTBOX_VALUE_BYTES) {
      values.push(jsonArray(group, size));
      group = [];
      size = 1;
    }
    group.push(f);
    size += f.byteLength + 1;
  }
  if (group.length > 0) values.push(jsonArray(group, size));
  return values;
}

/** `[a,b,…]` of the fragments, `size` bytes long. */
function jsonArray(fragments: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0x5b; // "["
  let at = 1;
  fragments.forEach((f, i) => {
    if (i > 0) out[at++] = 0x2c; // ","
    out.set(f, at);
    at += f.byteLength;
  });
  out[at] = 0x5d; // "]"
  return out;
}

/** KV's limits per atomic, measured on Deno 2.9, with headroom for keys and framing. */
export const ATOMIC_LIMITS = { checks: 100, mutations: 1000, bytes: 780 * 1024 } as const;

/**
 * Keys of {@linkcode GroupCommitter.deleteLater} that ride each atomic, at
 * most, unless more than 1,000 wait. The drainer's outbox deletes come in
 * bursts, one pass's worth at a time; in an atomic of their own they took
 * the KV writer ahead of the units acks wait for (after figure 2's load, an
 * atomic of about 90 such deletes took 2 to 5.6 ms, at 1,000 commits/s ten
 * times a second). Spread over the atomics, each adds a key or two to many.
 */
export const RIDING_DELETES = 16;

/** Bytes one delete is counted for in an atomic's size budget. */
const DELETE_BYTES = 64;

/** How long no atomic must have started before waiting deletes go in atomics of their own. */
export const IDLE_DELETES_MS = 10;

/** One session's share of an atomic: the versionstamp check of its head, and its mutations. */
export interface CommitUnit {
  readonly check?: Deno.AtomicCheck;
  readonly mutations: Deno.KvMutation[];
  /** Outbox entries as UTF-8 JSON fragments, packed with other units' into shared `["o", commit, i]` values. */
  readonly outbox?: readonly Uint8Array[];
  /** Estimated bytes of keys and values. */
  readonly bytes: number;
}

/** How a unit ended: committed with the new versionstamp, or lost its check. */
export type CommitOutcome = { ok: true; versionstamp: string } | { ok: false };

interface Pending {
  unit: CommitUnit;
  resolve(outcome: CommitOutcome): void;
  reject(error: unknown): void;
}

/** One `deleteLater` call: its keys not yet committed, and its promise. */
interface DeleteRequest {
  left: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface Deleting {
  key: Deno.KvKey;
  request: DeleteRequest;
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
  readonly #kv: Deno.Kv;
  readonly #observer?: CommitObserver;
  readonly #outbox?: (values: CommittedOutbox[]) => void;
  readonly #enabled: boolean;
  #queue: Pending[] = [];
  #inFlight = 0;
  readonly #maxInFlight: number;
  readonly #commitTimeoutMs: number;
  readonly #room: number;
  /** Sessions admitted and not yet done. */
  #admitted = 0;
  /** Sessions waiting for admission, first come first served. */
  readonly #waiting: (() => void)[] = [];
  /** Keys waiting to be deleted, oldest first. */
  #deletes: Deleting[] = [];
  /** When the last atomic started (`performance.now()`). */
  #lastStart = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #idleDeletesMs: number;

  /**
   * `grouped: false` commits every unit alone and admits every session at
   * once: the baseline of the benchmark. `room` is how many sessions may be
   * admitted at once; by default as many as the atomics in flight can check.
   * `outbox` receives the outbox values of each atomic once it committed,
   * before its units are resolved.
   */
  constructor(
    kv: Deno.Kv,
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
    } = {},
  ) {
    this.#commitTimeoutMs = opts.commitTimeoutMs ?? 10_000;
    this.#idleDeletesMs = opts.idleDeletesMs ?? IDLE_DELETES_MS;
    this.#maxInFlight = opts.maxInFlight ?? 2;
    this.#room = opts.room ?? ATOMIC_LIMITS.checks * this.#maxInFlight;
    this.#kv = kv;
    this.#observer = opts.observer;
    this.#outbox = opts.outbox;
    this.#enabled = opts.grouped ?? true;
  }

  /**
   * Waits until fewer than `room` sessions are admitted, and returns the
   * function that ends this admission (call it once the session's commit is
   * done, or when it has nothing to commit; a second call does nothing). A
   * session calls this before it takes its next batch from its mailbox.
   */
  async admit(): Promise<() => void> {
    if (this.#enabled && this.#admitted >= this.#room) {
      // The slot is handed over by `done` below, so #admitted stays as it is.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#admitted++;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#admitted--;
    };
  }

  /** Sessions waiting for admission. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Commits `unit` in the next atomic. Throws what KV throws. */
  commit(unit: CommitUnit): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ unit, resolve, reject });
      this.#pump();
    });
  }

  /**
   * Deletes `keys`, unchecked, in later atomics: up to
   * {@linkcode RIDING_DELETES} ride each atomic of units, and once no atomic
   * has started for {@linkcode IDLE_DELETES_MS}, the rest go in atomics of
   * their own. Resolves once every key is deleted; rejects if an atomic of
   * deletes alone throws.
   */
  deleteLater(keys: readonly Deno.KvKey[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const request = { left: keys.length, resolve, reject };
      for (const key of keys) this.#deletes.push({ key, request });
      this.#pump();
    });
  }

  /** Starts atomics while fewer than `maxInFlight` are in flight. */
  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#enabled ? this.#take() : [this.#queue.shift()!];
      this.#started(
        this.#commitBatch(batch).catch((error) => batch.forEach((p) => p.reject(error))),
      );
    }
    if (this.#deletes.length > 0 && this.#inFlight === 0 && this.#idleTimer === undefined) {
      // Nothing in flight: waiting deletes go alone once no atomic has started for a while.
      const wait = Math.max(0, this.#lastStart + this.#idleDeletesMs - performance.now());
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        if (this.#inFlight > 0 || this.#deletes.length === 0) return; // its end pumps again
        if (performance.now() - this.#lastStart < this.#idleDeletesMs) return this.#pump();
        this.#started(this.#deleteAlone());
      }, wait);
    }
  }

  /** Counts an atomic in flight until `done` settles, then pumps again. */
  #started(done: Promise<void>): void {
    this.#inFlight++;
    this.#lastStart = performance.now();
    done.finally(() => {
      this.#inFlight--;
      this.#pump();
    });
  }

  /**
   * Up to 1,000 waiting deletes in an atomic of their own. If KV throws, every
   * waiting delete is given up and its request rejected, rather than retried
   * here: the keys are still in KV, where the drainer finds them again.
   */
  async #deleteAlone(): Promise<void> {
    const riders = this.#deletes.splice(0, ATOMIC_LIMITS.mutations);
    const op = this.#kv.atomic();
    for (const d of riders) op.delete(d.key);
    try {
      await op.commit();
    } catch (error) {
      for (const d of [...riders, ...this.#deletes.splice(0)]) d.request.reject(error);
      return;
    }
    this.#deleted(riders);
  }

  /** The waiting deletes that ride an atomic with `mutations` mutations and `bytes` bytes already. */
  #riders(mutations: number, bytes: number): Deleting[] {
    const want = this.#deletes.length > ATOMIC_LIMITS.mutations
      ? this.#deletes.length
      : RIDING_DELETES;
    const room = Math.min(
      ATOMIC_LIMITS.mutations - mutations,
      Math.floor((ATOMIC_LIMITS.bytes - bytes) / DELETE_BYTES),
    );
    return this.#deletes.splice(0, Math.max(0, Math.min(want, room)));
  }

  /** Settles the requests whose last keys `riders` deleted. */
  #deleted(riders: readonly Deleting[]): void {
    for (const d of riders) if (--d.request.left === 0) d.request.resolve();
    if (this.#deletes.length === 0 && this.#idleTimer !== undefined) {
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
      // Keep room for the shared outbox values: about one per VALUE_BYTES of fragments.
      const outboxKeys = Math.ceil((bytes + next.bytes) / OUTBOX_VALUE_BYTES) + 1;
      const fits = mutations + adds + outboxKeys <= ATOMIC_LIMITS.mutations &&
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
    const started = performance.now();
    const commit = outboxCommitKey();
    const outbox = packOutbox(batch.flatMap((p) => p.unit.outbox ?? []))
      .map((value, i) => ({ key: keys.outbox(commit, i), value }));
    let mutations = 0;
    let bytes = 0;
    for (const p of batch) {
      mutations += p.unit.mutations.length;
      bytes += p.unit.bytes;
    }
    const riders = this.#riders(mutations + outbox.length, bytes);
    let result: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      result = await this.#bounded(this.#atomic(batch, outbox, riders));
    } catch (error) {
      this.#deletes.unshift(...riders);
      // A commit past its bound may still land: retrying its units alone could apply them twice.
      if (batch.length === 1 || error instanceof CommitTimeoutError) {
        for (const p of batch) p.reject(error);
        return;
      }
      return this.#one(batch);
    }
    if (!result.ok) {
      this.#deletes.unshift(...riders);
      if (batch.length === 1) return batch[0].resolve({ ok: false });
      return this.#one(batch);
    }
    this.#deleted(riders);
    this.#observer?.committed(batch.length, mutations, performance.now() - started);
    if (outbox.length > 0) this.#outbox?.(outbox);
    for (const p of batch) p.resolve({ ok: true, versionstamp: result.versionstamp });
  }

  /** Retries each unit alone, so one session's conflict or error does not fail the others. */
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

  async #one(batch: Pending[]): Promise<void> {
    for (const p of batch) await this.#commitBatch([p]);
  }

  #atomic(
    batch: Pending[],
    outbox: CommittedOutbox[],
    riders: readonly Deleting[],
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const op = this.#kv.atomic();
    for (const p of batch) {
      if (p.unit.check) op.check(p.unit.check);
      op.mutate(...p.unit.mutations);
    }
    for (const { key, value } of outbox) op.set(key, value);
    for (const d of riders) op.delete(d.key);
    return op.commit();
  }
}
