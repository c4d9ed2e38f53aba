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

/**
 * Payload bytes a client's message may have and still leave in one write.
 * Deno's WebSocket client keeps Nagle's algorithm on (TCP_NODELAY 0, which no
 * API changes) and writes a larger message as two writes, header then
 * payload. On a quiet connection the header goes out alone and the payload
 * waits for its ACK, which the server delays by about 40 ms: a bare header
 * gives it nothing to answer. A message of at most this size is one complete
 * write, and whatever Nagle holds back behind it leaves with the server's
 * first answer.
 */
export const ONE_WRITE_BYTES = 1024;

/**
 * Frames (JSON texts, `bytes[i]` the UTF-8 length of `texts[i]`) joined into
 * batch messages of at most {@linkcode ONE_WRITE_BYTES} each, in order; a
 * frame larger than that travels alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const ping = '{"t":"ping"}';
 * assert.deepEqual(packMessages([ping, ping], [12, 12]), [`[${ping},${ping}]`]);
 * ```
 */
export function packMessages(texts: readonly string[], bytes: readonly number[]): string[] {
  const messages: string[] = [];
  for (let i = 0; i < texts.length;) {
    let n = 1;
    let size = bytes[i] + 2; // "[" and "]"
    while (n < BATCH_MAX && i + n < texts.length && size + bytes[i + n] + 1 <= ONE_WRITE_BYTES) {
      size += bytes[i + n++] + 1;
    }
    messages.push(batchMessage(texts.slice(i, i + n)));
    i += n;
  }
  return messages;
}

/** The UTF-8 length of `s`, without encoding it (a lone surrogate counts 3, as the U+FFFD it becomes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    n += c < 0x800 ? 1 : 2;
    if (c >= 0xd800 && c < 0xdc00) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++; // a pair: 4 bytes for its 2 units
    }
  }
  return n;
}

/** The message of `texts`: a frame alone, or the JSON array of them all. */
export function batchMessage(texts: readonly string[]): string {
  return texts.length === 1 ? texts[0] : `[${texts.join(",")}]`;
}
