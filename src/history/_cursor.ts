/**
 * The keyset cursor of session listings: an opaque base64url of the last
 * listed row's `(updatedAt, id)`.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** Where the next page starts: strictly after this row in (updatedAt desc, id desc) order. */
export interface ListCursor {
  updatedAt: string;
  id: string;
}

/** Encodes a cursor as base64url. */
export function encodeCursor(c: ListCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([c.updatedAt, c.id]));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes a cursor, or throws a 400 when it was not made by {@linkcode encodeCursor}. */
export function decodeCursor(text: string): ListCursor {
  try {
    const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const value = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))),
    );
    if (
      Array.isArray(value) && value.length === 2 && typeof value[0] === "string" &&
      typeof value[1] === "string"
    ) {
      return { updatedAt: value[0], id: value[1] };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new ValidationError("Invalid cursor");
}
