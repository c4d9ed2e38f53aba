/**
 * tar-stream's extract as an async iterable of entries, fed from an async
 * iterable of bytes with backpressure. Parse failures (bad header checksum,
 * data that ends mid-entry) become 400s; errors that already are
 * `DenizenError`s (a limit, a bad gzip stream) pass through unchanged.
 *
 * @module
 */
import tar from "tar-stream";
import type { Extract, Header } from "tar-stream";
import { DenizenError, ValidationError } from "../errors.ts";
import { drained } from "./_stream_drained.ts";

/** One tar entry. Its body must be read to the end before the next entry is asked for. */
export interface TarEntry {
  header: Header;
  body: AsyncIterable<Uint8Array>;
}

/**
 * Parses a tar stream lazily. Returning early stops the parser and, through
 * `chunks`' own `return`, its source.
 *
 * @example
 * ```ts
 * for await (const { header, body } of tarEntries(gunzipLimited(req.body, limits))) {
 *   for await (const chunk of body) console.log(header.name, chunk.byteLength);
 * }
 * ```
 */
export async function* tarEntries(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const extract = tar.extract();
  void _feed(extract, chunks);
  try {
    for await (const entry of _guard(extract)) {
      yield { header: entry.header, body: _guard(entry as AsyncIterable<Uint8Array>) };
    }
  } finally {
    extract.destroy();
  }
}

/** Writes `chunks` into `extract`. Never rejects: a failure destroys `extract` with its error. */
async function _feed(extract: Extract, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (extract.destroying) return;
      if (!extract.write(chunk)) await drained(extract);
    }
    if (!extract.destroying) extract.end(undefined); // streamx types require an argument
  } catch (err) {
    extract.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

async function* _guard<T>(iterable: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* iterable;
  } catch (err) {
    if (err instanceof DenizenError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`Archive is not a valid tar stream: ${reason}`);
  }
}
