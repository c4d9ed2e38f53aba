/**
 * Per-connection flood control: a token bucket for frames, and a count of
 * refused frames per second that, once exceeded, means the client is not
 * slowing down and should be disconnected.
 *
 * @module
 */

/** Options of {@linkcode RateLimit}. */
export interface RateLimitOptions {
  /** Frames per second refilled. */
  rate: number;
  /** Bucket size: frames accepted in one burst. */
  burst: number;
  /** Refused frames within one second after which the verdict is `"flood"`. */
  maxRefused: number;
}

/** What to do with a frame. */
export type Verdict = "ok" | "limited" | "flood";

/**
 * A token bucket over an injected time.
 *
 * @example
 * ```ts
 * import { RateLimit } from "./ws_rate_limit.ts";
 * const limit = new RateLimit({ rate: 10, burst: 2, maxRefused: 1 }, 0);
 * limit.take(0); // "ok"
 * limit.take(0); // "ok"
 * limit.take(0); // "limited"
 * limit.take(0); // "flood"
 * ```
 */
export class RateLimit {
  readonly #opts: RateLimitOptions;
  #tokens: number;
  #at: number;
  #refused = 0;
  #windowStart: number;

  constructor(opts: RateLimitOptions, now: number) {
    this.#opts = opts;
    this.#tokens = opts.burst;
    this.#at = now;
    this.#windowStart = now;
  }

  /** Takes one token at time `now` (epoch ms). */
  take(now: number): Verdict {
    const { rate, burst, maxRefused } = this.#opts;
    if (now > this.#at) {
      this.#tokens = Math.min(burst, this.#tokens + (now - this.#at) * rate / 1000);
      this.#at = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return "ok";
    }
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#refused = 0;
    }
    this.#refused++;
    return this.#refused > maxRefused ? "flood" : "limited";
  }
}
