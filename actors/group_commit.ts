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

/** One session's share of an atomic: a versionstamp check and its mutations (no check: unconditional deletes). */
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

/** Observes commits, for metrics. */
export interface CommitObserver {
  /** Called after each KV commit of `units` commit units and `mutations` mutations that took `ms`. */
  committed(units: number, mutations: number, ms: number): void;
}

interface Pending {
  unit: CommitUnit;
  resolve(outcome: CommitOutcome): void;
  reject(error: unknown): void;
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
  readonly #room: number;
  /** Sessions admitted and not yet done. */
  #admitted = 0;
  /** Sessions waiting for admission, first come first served. */
  readonly #waiting: (() => void)[] = [];

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
    } = {},
  ) {
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

  /**
   * Commits `unit` in the next atomic. Throws what KV throws. An `urgent`
   * unit goes to the front of the queue (the drainer's deletes: they hold
   * up the history, not a caller).
   */
  commit(unit: CommitUnit, opts: { urgent?: boolean } = {}): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      if (opts.urgent) this.#queue.unshift({ unit, resolve, reject });
      else this.#queue.push({ unit, resolve, reject });
      this.#pump();
    });
  }

  /** Starts atomics while fewer than `maxInFlight` are in flight. */
  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#enabled ? this.#take() : [this.#queue.shift()!];
      this.#inFlight++;
      this.#commitBatch(batch)
        .catch((error) => batch.forEach((p) => p.reject(error)))
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
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
    let result: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      result = await this.#atomic(batch, outbox);
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      return this.#one(batch);
    }
    if (result.ok) {
      const mutations = batch.reduce((n, p) => n + p.unit.mutations.length, 0);
      this.#observer?.committed(batch.length, mutations, performance.now() - started);
      if (outbox.length > 0) this.#outbox?.(outbox);
      for (const p of batch) p.resolve({ ok: true, versionstamp: result.versionstamp });
    } else if (batch.length === 1) {
      batch[0].resolve({ ok: false });
    } else {
      await this.#one(batch);
    }
  }

  /** Retries each unit alone, so one session's conflict or error does not fail the others. */
  async #one(batch: Pending[]): Promise<void> {
    for (const p of batch) await this.#commitBatch([p]);
  }

  #atomic(
    batch: Pending[],
    outbox: CommittedOutbox[],
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const op = this.#kv.atomic();
    for (const p of batch) {
      if (p.unit.check) op.check(p.unit.check);
      op.mutate(...p.unit.mutations);
    }
    for (const { key, value } of outbox) op.set(key, value);
    return op.commit();
  }
}
