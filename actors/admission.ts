/**
 * Admission keeps the group committer's queue short: a session takes its
 * next batch only once fewer sessions are between taking a batch and having
 * it committed than the atomics in flight can check. Until then its commands
 * gather in its mailbox, so that under load each session commits many
 * commands at once instead of waiting in the queue with a unit built from a
 * few.
 *
 * @module
 */

/** Hands out at most `room` admissions at once, first come first served. */
export class Admission {
  readonly #room: number;
  /** Sessions admitted and not yet done. */
  #admitted = 0;
  /** Sessions waiting for admission. */
  readonly #waiting: (() => void)[] = [];

  /** `room` is how many sessions may be admitted at once (Infinity: every one at once). */
  constructor(room: number) {
    this.#room = room;
  }

  /**
   * Waits until fewer than `room` sessions are admitted, and returns the
   * function that ends this admission (call it once the session's commit is
   * done, or when it has nothing to commit; a second call does nothing).
   */
  async admit(): Promise<() => void> {
    if (this.#admitted >= this.#room) {
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
}
