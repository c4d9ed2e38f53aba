/**
 * The hot tier's layout: how a session's live state, the outbox and the
 * scheduler's index lie in Deno KV.
 *
 * Layout, per session id:
 * - `["s", id, "h"]` the head: everything but state, plus where the state lives
 *   and the tail (the ops and command ids of the last few commits), as UTF-8
 *   JSON (data directories from before 0.2 hold it as a KV object);
 * - `["s", id, "c", i]` snapshot chunks: the state's JSON as UTF-8, 60,000 bytes a key;
 * - `["s", id, "l", seq]` the log: JSON Patch ops committed since the snapshot;
 * - `["s", id, "k", page]` remembered command ids, 16 a page (see `command_memory.ts`);
 * - `["s", id, "x", type, rid]` coordination records (SPEC §9), one a key, as UTF-8 JSON;
 * - `["d", dueMs, id, type, rid]` the scheduler's index: one key per record of an active
 *   session that is due at a time (a timer, an approval's deadline, a claim's lease), written
 *   in the same atomic as the record, so due work is found by one range read;
 * - `["o", commit, i]` the outbox: the events of every session in one atomic,
 *   packed into as few values as fit, waiting for the drainer. `commit` sorts
 *   by time, so the outbox is read in commit order;
 * - `["i", id]` an archive import of session `id` in progress: its start time, epoch ms
 *   (see `src/archive/import_session.ts`).
 *
 * Most commits write one key, the head, whose tail carries their ops and
 * command ids. Once the head would pass {@linkcode HEAD_CHARS}, the tail goes out as a
 * log entry and command pages. So a commit's cost does not grow with the
 * state, and it touches as few database pages as KV allows: one key where a
 * log entry and a command page would cost three. A snapshot is written every
 * so often and folds the log.
 * Values over one KV value go to the blob store first and leave a reference.
 *
 * @module
 */
import type { Session } from "../session.ts";
import {
  type Coordination,
  type CoordRecord,
  dueOf,
  RECORD_TYPES,
  type RecordType,
} from "../coordination/model.ts";

/** The head key's value: the session without state, plus the state's layout. */
export interface Head extends Omit<Session, "state" | "report"> {
  /** Seq at which the snapshot was taken, its chunk count and byte size, and when it was written. */
  snap: { seq: number; chunks: number; bytes: number; at: number };
  /** First seq of each log entry written since the snapshot. */
  logs: number[];
  /** Bytes of the log entries since the snapshot. */
  logBytes: number;
  /** How many command ids were ever remembered; the next goes to slot `cmds % 1000`. */
  cmds: number;
  /** What the last commits added since the last log entry and command pages; absent when empty. */
  tail?: Tail;
  /** Coordination records under `["s", id, "x"]`; absent when none, so loading skips the read. */
  records?: number;
}

/**
 * The ops and command ids committed since the last log entry and command
 * pages, kept as their JSON text: in memory each item is one flat string,
 * and the head's JSON is spliced from them with no parse or stringify.
 */
export interface Tail {
  /** Log items, oldest first: the JSON of `[seq, ops]`, applied after the log entries. */
  log: string[];
  /**
   * Packed command records (see `command_memory.ts`), oldest first. They
   * fill the slots just below `cmds`: the last one is slot `(cmds - 1) % 1000`.
   */
  cmds: string[];
}

/**
 * Characters a head's JSON holds at most before its tail goes out: a larger
 * head costs KV less than a new log key (measurements in docs/performance.md).
 */
export const HEAD_CHARS = 4000;

/** The JSON of a head's fields, without its tail. */
export function headFields(head: Head): string {
  const { tail: _, ...fields } = head;
  return JSON.stringify(fields);
}

/** Characters the tail's items add to a head's JSON, framing included. */
export function tailChars(log: readonly string[], cmds: readonly string[]): number {
  // `,"tail":{"log":[],"cmds":[]}` adds 28 characters and each array of n items n - 1 commas,
  // so 27 plus one an item is never fewer than encodeHead writes.
  let n = 27 + log.length + cmds.length;
  for (const item of log) n += item.length;
  for (const item of cmds) n += item.length;
  return n;
}

/** The stored JSON of a head: its fields (`fields`, when already known), then the tail's items as JSON arrays. */
export function encodeHead(head: Head, fields = headFields(head)): Uint8Array {
  const { tail } = head;
  if (!tail) return encoder.encode(fields);
  return encoder.encode(
    `${fields.slice(0, -1)},"tail":{"log":[${tail.log.join(",")}],"cmds":[${
      tail.cmds.join(",")
    }]}}`,
  );
}

/** A head read from KV: UTF-8 JSON, or a KV object from before 0.2. */
export function decodeHead(value: Uint8Array | Head): Head {
  const head = value instanceof Uint8Array ? JSON.parse(decoder.decode(value)) as Head : value;
  head.pendingApprovals ??= 0; // heads written before coordination
  head.openConflicts ??= 0;
  const tail = head.tail as { log: unknown[]; cmds: unknown[] } | undefined;
  if (tail) {
    head.tail = {
      log: tail.log.map((item) => JSON.stringify(item)),
      cmds: tail.cmds.map((packed) => JSON.stringify(packed)),
    };
  }
  return head;
}

/** A session loaded from KV. */
export interface HotSession {
  head: Head;
  state: Record<string, unknown>;
  /** Its coordination records. */
  coord: Coordination;
  versionstamp: string;
}

/** The scheduler's index key of a record due at `due`. */
export function dueKey(due: number, id: string, type: RecordType, rid: string): Deno.KvKey {
  return ["d", due, id, type, rid];
}

/**
 * The index keys a session's records hold, by record: only an active
 * session's records are on the scheduler (a paused session's wait for its
 * resume; a terminal session's never come due). With `only`, just the
 * records `only` changed.
 */
export function dueKeys(
  head: Head,
  coord: Coordination | RecordLookup,
  only?: { changes(): Iterable<{ type: RecordType; id: string }> },
): [string, Deno.KvKey][] {
  const out: [string, Deno.KvKey][] = [];
  if (head.status !== "active") return out;
  const add = (type: RecordType, r: CoordRecord | undefined) => {
    const due = r === undefined ? undefined : dueOf(type, r);
    if (due !== undefined) out.push([`${type}\u0000${r!.id}`, dueKey(due, head.id, type, r!.id)]);
  };
  const get = "get" in coord
    ? (type: RecordType, id: string) => coord.get(type, id)
    : (type: RecordType, id: string) =>
      Object.hasOwn(coord[type], id) ? coord[type][id] as CoordRecord : undefined;
  if (only) {
    for (const c of only.changes()) add(c.type, get(c.type, c.id));
  } else {
    const all = "get" in coord ? undefined : coord;
    if (all === undefined) throw new Error("dueKeys of every record needs the records");
    for (const type of RECORD_TYPES) for (const r of Object.values(all[type])) add(type, r);
  }
  return out;
}

/** Reads one record, as a turn's draft does. */
export interface RecordLookup {
  /** The record of `type` and `id`, or undefined. */
  get(type: RecordType, id: string): CoordRecord | undefined;
}

/** Payload bytes per KV value, below KV's 65,536 with room for framing. */
export const VALUE_BYTES = 60_000;

/** KV keys of the hot tier. */
export const keys = {
  head: (id: string): Deno.KvKey => ["s", id, "h"],
  chunk: (id: string, i: number): Deno.KvKey => ["s", id, "c", i],
  chunks: (id: string): Deno.KvKey => ["s", id, "c"],
  log: (id: string, seq: number): Deno.KvKey => ["s", id, "l", seq],
  logs: (id: string): Deno.KvKey => ["s", id, "l"],
  command: (id: string, page: number): Deno.KvKey => ["s", id, "k", page],
  commands: (id: string): Deno.KvKey => ["s", id, "k"],
  session: (id: string): Deno.KvKey => ["s", id],
  record: (id: string, type: RecordType, rid: string): Deno.KvKey => ["s", id, "x", type, rid],
  records: (id: string): Deno.KvKey => ["s", id, "x"],
  dueAll: ["d"] as Deno.KvKey,
  outbox: (commit: string, i: number): Deno.KvKey => ["o", commit, i],
  outboxAll: ["o"] as Deno.KvKey,
  importing: (id: string): Deno.KvKey => ["i", id],
  importingAll: ["i"] as Deno.KvKey,
};

/** A value stored inline as UTF-8 JSON, or spilled to the blob store. */
export type Stored = Uint8Array | { blob: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Splits UTF-8 bytes into KV-sized chunks. */
export function chunk(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += VALUE_BYTES) {
    out.push(bytes.subarray(i, i + VALUE_BYTES));
  }
  return out.length === 0 ? [new Uint8Array(0)] : out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Bytes of one stored value with its key and framing, for the atomic size budget. */
export function storedBytes(value: Uint8Array): number {
  return value.byteLength + 64;
}

export { decoder as utf8Decoder, encoder as utf8Encoder };
