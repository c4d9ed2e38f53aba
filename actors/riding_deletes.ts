/**
 * Keys waiting to be deleted, unchecked, in the group committer's atomics.
 * The drainer's outbox deletes come in bursts, one pass's worth at a time;
 * in atomics of their own they would take the KV writer ahead of the units
 * acks wait for, so a few ride each atomic of units instead (see
 * docs/performance.md).
 *
 * @module
 */

/** Keys that ride each atomic, at most, unless more than 1,000 wait. */
export const RIDING_DELETES = 16;

/** How long no atomic must have started before waiting deletes go in atomics of their own. */
export const IDLE_DELETES_MS = 10;

/** Bytes one delete is counted for in an atomic's size budget. */
export const DELETE_BYTES = 64;

/** One `add` call: its keys not yet deleted, and its promise. */
interface Request {
  left: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** A waiting key and the request it belongs to. */
export interface Rider {
  readonly key: Deno.KvKey;
  readonly request: Request;
}

/** The queue of waiting deletes, oldest first. */
export class DeleteQueue {
  #waiting: Rider[] = [];

  /** Keys waiting. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Queues `keys`; resolves once each is deleted (see {@linkcode deleted}). */
  add(keys: readonly Deno.KvKey[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const request = { left: keys.length, resolve, reject };
      for (const key of keys) this.#waiting.push({ key, request });
    });
  }

  /**
   * The keys that ride an atomic with `room` mutations to spare: up to
   * {@linkcode RIDING_DELETES}, or as many as fit once more than `most` wait.
   */
  take(room: number, most: number): Rider[] {
    const want = this.#waiting.length > most ? this.#waiting.length : RIDING_DELETES;
    return this.#waiting.splice(0, Math.max(0, Math.min(want, room)));
  }

  /** Puts riders of an atomic that did not commit back at the front. */
  putBack(riders: readonly Rider[]): void {
    this.#waiting.unshift(...riders);
  }

  /** Settles the requests whose last keys `riders` deleted. */
  deleted(riders: readonly Rider[]): void {
    for (const r of riders) if (--r.request.left === 0) r.request.resolve();
  }

  /**
   * Gives up `riders` and every waiting key, rejecting their requests: the
   * keys are still in KV, where their owner finds them again.
   */
  fail(riders: readonly Rider[], error: unknown): void {
    for (const r of [...riders, ...this.#waiting.splice(0)]) r.request.reject(error);
  }
}
