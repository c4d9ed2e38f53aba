/**
 * Gunzip with limits: the compressed bytes and the inflated bytes are both
 * counted as they flow, and the stream stops at the first byte over a limit.
 * The input is cut into small slices before inflating, so one slice can
 * inflate to at most about a thousand times its size (deflate's ceiling):
 * a gzip bomb is never inflated in full.
 *
 * @module
 */
import { DenizenError, TooLargeError, ValidationError } from "../errors.ts";

/** Compressed bytes inflated per step: at most about 16 MiB out. */
const SLICE_BYTES = 16 * 1024;

/** The limits `gunzipLimited` enforces, in bytes, and a signal that cancels the input. */
export interface GunzipOptions {
  maxCompressedBytes: number;
  maxTotalBytes: number;
  /** Aborting it cancels `body` at once, even while a read is pending. */
  signal?: AbortSignal;
}

/**
 * Inflates a gzip stream chunk by chunk. Throws a 413 past a limit and a 400
 * for a truncated or corrupt gzip stream. Returning early, or aborting
 * `options.signal`, cancels `body`.
 *
 * @example
 * ```ts
 * for await (const chunk of gunzipLimited(req.body, { maxCompressedBytes: 1e6, maxTotalBytes: 1e7 })) {
 *   console.log(chunk.byteLength);
 * }
 * ```
 */
export async function* gunzipLimited(
  body: ReadableStream<Uint8Array>,
  limits: GunzipOptions,
): AsyncGenerator<Uint8Array> {
  let compressed = 0;
  const sliced = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        compressed += chunk.byteLength;
        if (compressed > limits.maxCompressedBytes) {
          throw new TooLargeError(
            `Archive is over the limit of ${limits.maxCompressedBytes} compressed bytes`,
            { limit: limits.maxCompressedBytes },
          );
        }
        for (let i = 0; i < chunk.byteLength; i += SLICE_BYTES) {
          controller.enqueue(chunk.subarray(i, i + SLICE_BYTES) as Uint8Array<ArrayBuffer>);
        }
      },
    }),
  );
  const reader = sliced.pipeThrough(new DecompressionStream("gzip")).getReader();
  const cancel = () => reader.cancel().catch(() => {});
  limits.signal?.addEventListener("abort", cancel, { once: true });
  let total = 0;
  try {
    while (true) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        if (err instanceof DenizenError) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        throw new ValidationError(`Archive is not a valid gzip stream: ${reason}`);
      }
      if (next.done) return;
      total += next.value.byteLength;
      if (total > limits.maxTotalBytes) {
        throw new TooLargeError(
          `Archive inflates to over the limit of ${limits.maxTotalBytes} bytes`,
          { limit: limits.maxTotalBytes },
        );
      }
      yield next.value;
    }
  } finally {
    limits.signal?.removeEventListener("abort", cancel);
    cancel();
  }
}
