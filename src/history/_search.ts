/**
 * Full-text helpers: what gets indexed for a session, and how user input
 * becomes a match expression that can never be a syntax error.
 *
 * User input is cut into words of letters and digits; nothing else reaches
 * the engine. Every word must match, whole: a prefix query costs a scan of
 * every indexed term with that prefix, too slow to probe row by row.
 *
 * @module
 */
import { PG_FTS_MAX_CHARS } from "./migrations.ts";

const WORD = /[\p{L}\p{N}]+/gu;
/** Words beyond this many are ignored. */
const MAX_WORDS = 16;
/** A word is cut to this many characters. */
const MAX_WORD = 64;

function words(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}

function collect(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number" || typeof value === "boolean") out.push(String(value));
  else if (Array.isArray(value)) { for (const v of value) collect(v, out); }
  else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) collect(v, out);
  }
}

/** The indexed text of a session: the words of its name, tags and meta values. */
export function sessionSearchText(
  name: string | undefined,
  tags: readonly string[],
  meta: Record<string, unknown>,
): string {
  const parts: string[] = [name ?? "", ...tags];
  collect(meta, parts);
  return words(parts.join(" ")).join(" ").slice(0, PG_FTS_MAX_CHARS);
}

/** The distinct words of a query, in order, at most 16. Empty when nothing is searchable. */
export function queryWords(q: string): string[] {
  return [...new Set(words(q).map((w) => w.slice(0, MAX_WORD)))].slice(0, MAX_WORDS);
}

/** An FTS5 match expression: every word quoted, all required. */
export function fts5Match(qwords: readonly string[]): string {
  return qwords.map((w) => `"${w}"`).join(" ");
}

/** A `to_tsquery` expression: every word quoted, all required. */
export function tsQuery(qwords: readonly string[]): string {
  return qwords.map((w) => `'${w}'`).join(" & ");
}
