/**
 * Full-text helpers: what gets indexed for a session, and how user input
 * becomes a match expression that can never be a syntax error.
 *
 * User input is cut into words of letters and digits; nothing else reaches
 * the engine, and each word is quoted. Every word must match. Against a
 * session's own text (id, name, tags, meta, searchable state) every query
 * word is a prefix, as seed 000 searched: `acm` finds "ACME research" and the
 * ids that start with `acm`, and `quart res` finds "Quarterly research".
 * Against message contents words match whole: messages are by far the larger
 * index, and a prefix there (`a`) would merge the postings of every term it
 * starts, on every search.
 *
 * @module
 */
import { PG_FTS_MAX_CHARS } from "./migrations.ts";
import type { SessionRecord } from "./history_store.ts";

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

/** The indexed text of a session: the words of its id, name, tags, meta values and searchable state. */
export function sessionSearchText(
  s: Pick<SessionRecord, "id" | "name" | "tags" | "meta" | "searchText">,
): string {
  // The id first, so that the cap on the text never cuts it.
  const parts: string[] = [s.id, s.name ?? "", ...s.tags];
  collect(s.meta, parts);
  if (s.searchText !== undefined) parts.push(s.searchText);
  return words(parts.join(" ")).join(" ").slice(0, PG_FTS_MAX_CHARS);
}

/** The distinct words of a query, in order, at most 16. Empty when nothing is searchable. */
export function queryWords(q: string): string[] {
  return [...new Set(words(q).map((w) => w.slice(0, MAX_WORD)))].slice(0, MAX_WORDS);
}

/** How a query word matches an indexed word: as the whole word, or as its start. */
export type WordMatch = "whole" | "prefix";

/** An FTS5 match expression: every word quoted (`"acm"`, or `"acm"*` as a prefix), all required. */
export function fts5Match(qwords: readonly string[], match: WordMatch): string {
  const suffix = match === "prefix" ? "*" : "";
  return qwords.map((w) => `"${w}"${suffix}`).join(" ");
}

/** A `to_tsquery` expression: every word quoted (`'acm'`, or `'acm':*` as a prefix), all required. */
export function tsQuery(qwords: readonly string[], match: WordMatch): string {
  const suffix = match === "prefix" ? ":*" : "";
  return qwords.map((w) => `'${w}'${suffix}`).join(" & ");
}
