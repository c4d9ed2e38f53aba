/**
 * Time and randomness are injected so that TTLs, the sweeper, heartbeats and
 * backoff are tested without sleeping.
 *
 * @module
 */

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  /** The current time, epoch milliseconds. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, for tests. */
export class ManualClock implements Clock {
  #now: number;
  /** A clock stopped at `start`, epoch milliseconds. Default 2026-01-01T00:00:00Z. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  /** The time the clock shows. */
  now(): number {
    return this.#now;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** ISO-8601 UTC form of an epoch-millisecond time. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A monotonic clock (`performance.now()`), for pacing and durations that must not jump. */
export const monotonicClock: Clock = { now: () => performance.now() };
