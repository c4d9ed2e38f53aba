/**
 * Request bodies read with a byte limit: a body over the limit is refused
 * with 413 as soon as the limit is crossed, without buffering the rest.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import { TooLargeError, ValidationError } from "../src/errors.ts";
import { parse } from "../src/inputs.ts";
import { LIMITS } from "../src/session.ts";

/** Body limit of most routes: one message (1 MiB) plus room for its JSON envelope. */
export const BODY_LIMIT = LIMITS.message + 64 * 1024;

/** Body limit of `POST …/results`: the largest result (64 MiB) plus room for its envelope. */
export const RESULT_BODY_LIMIT = LIMITS.result + 1024 * 1024;

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
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError("Body is not valid JSON", { reason: (error as Error).message });
  }
}

/** Reads the body and parses it with `schema`; an empty body reads as `{}`. */
export async function body<T extends z.ZodType>(
  c: Context,
  schema: T,
  what: string,
  limit = BODY_LIMIT,
): Promise<z.output<T>> {
  return parse(schema, (await readJson(c.req.raw, limit)) ?? {}, what);
}

function tooLarge(bytes: number, limit: number): TooLargeError {
  return new TooLargeError(`Body is over the limit of ${limit} bytes`, { bytes, limit });
}
