/**
 * The batch extension of SPEC §5 (`?batch=1`): one WebSocket message may
 * carry a JSON array of frames. The limits and the joining are shared by the
 * server, which sends batches, and `client.ts`, which sends them too.
 *
 * @module
 */

/** Most frames one batch message may carry. */
export const BATCH_MAX = 1000;

/**
 * A batch message stops growing at this many UTF-16 units: at most 768 KiB
 * of UTF-8, under the 1 MiB frame limit.
 */
export const BATCH_CHARS = 256 * 1024;

/**
 * How many frames (JSON texts) from `texts[start]` on one message takes: at
 * least one, at most `max`, and no more than fit in {@linkcode BATCH_CHARS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(batchLength(['{"t":"ping"}', '{"t":"ping"}'], 0), 2);
 * assert.equal(batchLength(['{"t":"ping"}', '{"t":"ping"}'], 0, 1), 1);
 * ```
 */
export function batchLength(texts: readonly string[], start: number, max = BATCH_MAX): number {
  let n = 1;
  let chars = texts[start].length;
  while (
    n < max && start + n < texts.length && chars + texts[start + n].length < BATCH_CHARS
  ) {
    chars += texts[start + n++].length + 1;
  }
  return n;
}

/** The message of `texts`: a frame alone, or the JSON array of them all. */
export function batchMessage(texts: readonly string[]): string {
  return texts.length === 1 ? texts[0] : `[${texts.join(",")}]`;
}
