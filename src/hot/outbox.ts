/**
 * The outbox's format: the events of every session in one atomic, as UTF-8
 * JSON fragments packed into as few `["o", commit, i]` values as fit, read
 * back by the drainer in commit order. Entries over one value are spilled
 * to the blob store and leave `{"blob": key}`.
 *
 * @module
 */
import type { BatchEntry } from "../history/history_store.ts";

/** A stored outbox value: entries, each inline or spilled to the blob store. */
export type OutboxValue = (OutboxEntry | { blob: string })[];

let lastCommitTime = 0;
let commitCounter = 0;
const instance = Math.random().toString(36).slice(2, 8).padEnd(6, "0");

/**
 * A new outbox commit key: time in ms, a counter within the ms, and this
 * process's random tag, so keys sort by time and never repeat.
 */
export function outboxCommitKey(now = Date.now()): string {
  if (now > lastCommitTime) {
    lastCommitTime = now;
    commitCounter = 0;
  }
  return lastCommitTime.toString(36).padStart(9, "0") +
    (commitCounter++).toString(36).padStart(4, "0") + instance;
}

/** An outbox value as committed: its `["o", commit, i]` key and its UTF-8 JSON (an array of {@linkcode OutboxEntry}). */
export interface CommittedOutbox {
  key: Deno.KvKey;
  value: Uint8Array;
}

/** One outbox entry: one session's events and, on its unit's last entry, its index row. */
export type OutboxEntry = BatchEntry;

/** What a spilled entry's JSON starts with; an outbox value without it holds inline entries only. */
export const SPILLED_MARK = '{"blob":';

const SPILLED_BYTES = new TextEncoder().encode(SPILLED_MARK);

/** Whether an outbox value's UTF-8 holds {@linkcode SPILLED_MARK}: false means every entry is inline. */
export function mayHoldSpilled(value: Uint8Array): boolean {
  // Look for the mark's `b`, rarer than its `{` and `"`, then compare the whole mark around it.
  const at = 2;
  for (
    let i = value.indexOf(SPILLED_BYTES[at], at);
    i !== -1;
    i = value.indexOf(SPILLED_BYTES[at], i + 1)
  ) {
    let j = 0;
    while (j < SPILLED_BYTES.length && value[i - at + j] === SPILLED_BYTES[j]) j++;
    if (j === SPILLED_BYTES.length) return true;
  }
  return false;
}

/** Bytes of fragments per shared outbox value, under KV's 65,536 per value. */
export const OUTBOX_VALUE_BYTES = 60_000;

/** Packs UTF-8 JSON fragments into as few JSON-array values as fit in one KV value each. */
export function packOutbox(fragments: readonly Uint8Array[]): Uint8Array[] {
  const values: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 1; // "[" and, per fragment, its bytes and a "," or the closing "]"
  for (const f of fragments) {
    if (group.length > 0 && size + f.byteLength + 1 > OUTBOX_VALUE_BYTES) {
      values.push(jsonArray(group, size));
      group = [];
      size = 1;
    }
    group.push(f);
    size += f.byteLength + 1;
  }
  if (group.length > 0) values.push(jsonArray(group, size));
  return values;
}

/** `[a,b,…]` of the fragments, `size` bytes long. */
function jsonArray(fragments: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0x5b; // "["
  let at = 1;
  fragments.forEach((f, i) => {
    if (i > 0) out[at++] = 0x2c; // ","
    out.set(f, at);
    at += f.byteLength;
  });
  out[at] = 0x5d; // "]"
  return out;
}
