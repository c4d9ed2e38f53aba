/**
 * Keyset cursors: an opaque base64url of the sort keys of the last row of a
 * page. A session listing's cursor holds `(updatedAt, id)`; the approvals
 * inbox's holds `(deadline, session id, approval id)`.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** Encodes the sort keys of a page's last row as base64url. */
export function encodeCursor(keys: readonly string[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(keys));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes a cursor of `length` keys, or throws a 400 when it was not made by
 * {@linkcode encodeCursor} with that many.
 */
export function decodeCursor(text: string, length: number): string[] {
  try {
    const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const value: unknown = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))),
    );
    if (
      Array.isArray(value) && value.length === length &&
      value.every((key) => typeof key === "string")
    ) {
      return value;
    }
  } catch {
    // Falls through to the error below.
  }
  throw new ValidationError("Invalid cursor");
}
