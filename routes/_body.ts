/**
 * Request bodies read with a byte limit: a body over the limit is refused
 * with 413 as soon as the limit is crossed, without buffering the rest.
 *
 * @module
 */
import { TooLargeError, ValidationError } from "../src/errors.ts";
import { LIMITS } from "../src/session.ts";

/** Body limit of most routes: one message (1 MiB) plus room for its JSON envelope. */
export const BODY_LIMIT = LIMITS.message + 64 * 1024;

/** Body limit of `POST …/results`: the largest result (64 MiB) plus room for its envelope. */
export const RESULT_BODY_LIMIT = LIMITS.result + 1024 * 1024;

/** Deepest JSON nesting a body may have; deeper input would overflow the stack of later stages. */
const MAX_DEPTH = 256;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads the body as JSON; `undefined` when it is empty. 413 over `limit` bytes, 400 when it is not JSON. */
export async function readJson(req: Request, limit = BODY_LIMIT): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(Number(declared), limit);
  if (req.body === null) return undefined;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(size, limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ValidationError("Body is not valid UTF-8");
  }
  if (text.trim() === "") return undefined;
  if (depthOver(text, MAX_DEPTH)) {
    throw new ValidationError(`Body nests deeper than ${MAX_DEPTH} levels`, {
      maxDepth: MAX_DEPTH,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError("Body is not valid JSON", { reason: (error as Error).message });
  }
}

/** True when the brackets of JSON `text` nest deeper than `max`, counting outside strings only. */
function depthOver(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

function tooLarge(bytes: number, limit: number): TooLargeError {
  return new TooLargeError(`Body is over the limit of ${limit} bytes`, { bytes, limit });
}
