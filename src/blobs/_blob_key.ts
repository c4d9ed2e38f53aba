/**
 * The blob key rule shared by every blob store: `/`-separated segments of
 * `[A-Za-z0-9_.-]`, none of them `.` or `..`, no leading or trailing `/`.
 * A key that passes can be joined under a directory without escaping it.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

const SEGMENT = /^[A-Za-z0-9_.-]{1,255}$/;
const MAX_KEY = 1024;

function validSegments(segments: readonly string[]): boolean {
  return segments.every((s) => SEGMENT.test(s) && s !== "." && s !== "..");
}

/** Throws a 400 unless `key` is a valid blob key; returns it. */
export function assertBlobKey(key: string): string {
  if (key.length > MAX_KEY || !validSegments(key.split("/"))) {
    throw new ValidationError(`Invalid blob key '${key.slice(0, 200)}'`);
  }
  return key;
}

/**
 * Throws a 400 unless `prefix` is empty or the start of a valid key: valid
 * segments, the last of which may be partial or followed by `/`.
 */
export function assertBlobPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (prefix.length > MAX_KEY || !validSegments(body.split("/"))) {
    throw new ValidationError(`Invalid blob prefix '${prefix.slice(0, 200)}'`);
  }
  return prefix;
}
