/**
 * A progress bar for bulk commands, drawn on stderr so stdout stays
 * parseable. Hand-rolled: one line redrawn with `\r`.
 *
 * @module
 */

const WIDTH = 24;
const encoder = new TextEncoder();

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** Draw at all. Default: only when stderr is a terminal. */
  enabled?: boolean;
  /** Where to draw. Default `Deno.stderr`. */
  out?: { writeSync(bytes: Uint8Array): number };
}

/**
 * `label [#########...............] 3/8 id`, redrawn after every item.
 *
 * @example
 * ```ts
 * const bar = new Progress("Deleting", ids.length, { enabled: true });
 * for (const id of ids) {
 *   await rt.delete(id);
 *   bar.tick(id);
 * }
 * bar.done();
 * ```
 */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  readonly #out: { writeSync(bytes: Uint8Array): number };
  #done = 0;

  /** A bar for `total` items, drawn at once (at 0) when enabled. */
  constructor(label: string, total: number, opts: ProgressOptions = {}) {
    this.#label = label;
    this.#total = total;
    this.#enabled = (opts.enabled ?? Deno.stderr.isTerminal()) && total > 0;
    this.#out = opts.out ?? Deno.stderr;
    this.#draw("");
  }

  /** One more item is done; `item` names it. */
  tick(item = ""): void {
    this.#done = Math.min(this.#total, this.#done + 1);
    this.#draw(item);
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#enabled) this.#out.writeSync(encoder.encode("\n"));
  }

  #draw(item: string): void {
    if (!this.#enabled) return;
    const filled = Math.round((this.#done / this.#total) * WIDTH);
    const bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    const line = `${this.#label} [${bar}] ${this.#done}/${this.#total} ${item}`.slice(0, 120);
    this.#out.writeSync(encoder.encode(`\r\x1b[2K${line}`));
  }
}
