/**
 * Splitting a streamed jsonl file into parsed JSON values, one line at a
 * time, with a cap on the length of a line so no line is buffered past it.
 *
 * @module
 */
import { TooLargeError, ValidationError } from "../errors.ts";

const NEWLINE = 0x0a;

/**
 * Yields `[lineNumber, value]` for every line of `chunks`. A missing final
 * newline is accepted. Throws a 413 for a line over `maxLineBytes` and a 400
 * for a line that is not UTF-8 JSON (an empty line included).
 *
 * @example
 * ```ts
 * for await (const [line, value] of jsonlValues(body, "events.jsonl", 1 << 20)) {
 *   console.log(line, value);
 * }
 * ```
 */
export async function* jsonlValues(
  chunks: AsyncIterable<Uint8Array>,
  file: string,
  maxLineBytes: number,
): AsyncGenerator<[number, unknown]> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let line = 0;
  const parse = (bytes: Uint8Array): [number, unknown] => {
    line += 1;
    try {
      return [line, JSON.parse(decoder.decode(bytes))];
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`Archive ${file} line ${line} is not valid JSON: ${reason}`);
    }
  };
  const tooLong = () =>
    new TooLargeError(
      `Archive ${file} line ${line + 1} is over the limit of ${maxLineBytes} bytes`,
      {
        limit: maxLineBytes,
      },
    );
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + end - start > maxLineBytes) throw tooLong();
      pending.push(chunk.subarray(start, end));
      yield parse(_concat(pending, pendingBytes + end - start));
      pending = [];
      pendingBytes = 0;
      start = end + 1;
    }
    if (start < chunk.byteLength) {
      pendingBytes += chunk.byteLength - start;
      if (pendingBytes > maxLineBytes) throw tooLong();
      pending.push(chunk.slice(start));
    }
  }
  if (pendingBytes > 0) yield parse(_concat(pending, pendingBytes));
}

function _concat(parts: Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
