/**
 * The hot tier: a session's live state in Deno KV.
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
 *   (see `import_session.ts`).
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
import jsonpatch, { type Operation } from "fast-json-patch";
import type { BlobStore } from "../blobs/blob_store.ts";
import type { BatchEntry } from "../history/history_store.ts";
import { UnavailableError } from "../errors.ts";
import type { Session } from "../session.ts";
import {
  type Coordination,
  type CoordRecord,
  dueOf,
  emptyCoordination,
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
 * Characters a head's JSON holds at most before its tail goes out (bytes, for
 * ASCII JSON). What costs KV is inserting a new key (a log entry) in the
 * middle of the B-tree, not a larger head: on a KV file laid out as 1,000
 * sessions are, an atomic of 60 checked sessions took 3.4 ms when each wrote
 * a head of 1,200 to 4,000 bytes, 4.5 ms at 8,000 bytes, and 9.3 ms when each
 * wrote an 850-byte head, a new log entry and a command page. A tail of 4,000
 * characters holds about ten patches with their command ids, so a session
 * under load writes a log entry every few commits rather than every one.
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

type Stored = Uint8Array | { blob: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads and encodes the hot tier. Stateless apart from its stores. */
export class HotStore {
  readonly kv: Deno.Kv;
  readonly blobs: BlobStore;

  constructor(kv: Deno.Kv, blobs: BlobStore) {
    this.kv = kv;
    this.blobs = blobs;
  }

  /** Loads a session: head, snapshot and log. Undefined when KV has no head. */
  async load(id: string): Promise<HotSession | undefined> {
    try {
      return await this.#load(id);
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof TypeError)) throw error;
      // A damaged value: this session cannot be served, the others can.
      throw new UnavailableError(
        `Session '${id}' cannot be read from KV (${error.message}); delete it or restore it from an archive`,
      );
    }
  }

  async #load(id: string): Promise<HotSession | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const head = await this.kv.get<Uint8Array | Head>(keys.head(id));
      if (head.value === null) return undefined;
      const h0 = decodeHead(head.value);
      const [chunks, logs, records] = await Promise.all([
        this.#list(keys.chunks(id)),
        this.#list(keys.logs(id)),
        h0.records ? this.#list(keys.records(id)) : [],
      ]);
      const again = await this.kv.get(keys.head(id));
      if (again.versionstamp !== head.versionstamp) continue; // a writer raced us: read again
      const h = h0;
      const coord = emptyCoordination();
      for (const e of records) {
        const [, , , type, rid] = e.key as [string, string, string, RecordType, string];
        (coord[type] as Record<string, CoordRecord>)[rid] = JSON.parse(
          decoder.decode(e.value as Uint8Array),
        );
      }
      const bytes = concat(chunks.slice(0, h.snap.chunks).map((e) => e.value as Uint8Array));
      let state = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
      for (const entry of logs) {
        const seq = entry.key[3] as number;
        if (!h.logs.includes(seq)) continue;
        const ops = await this.decode<[number, Operation[]][]>(entry.value as Stored);
        for (const [, batch] of ops) {
          state = jsonpatch.applyPatch(state, batch, false, true).newDocument;
        }
      }
      for (const item of h.tail?.log ?? []) {
        const [, batch] = JSON.parse(item) as [number, Operation[]];
        state = jsonpatch.applyPatch(state, batch, false, true).newDocument;
      }
      return { head: h, state, coord, versionstamp: head.versionstamp! };
    }
    throw new Error(`Session '${id}' changed during five reads in a row`);
  }

  /** The entries of one outbox value, spilled ones read back from the blob store. */
  async outboxEntries(value: Uint8Array): Promise<{ entries: OutboxEntry[]; spilled: string[] }> {
    const items = JSON.parse(decoder.decode(value)) as OutboxValue;
    const entries: OutboxEntry[] = [];
    const spilled: string[] = [];
    for (const item of items) {
      if ("blob" in item) {
        spilled.push(item.blob);
        entries.push(await this.decode<OutboxEntry>(item));
      } else {
        entries.push(item);
      }
    }
    return { entries, spilled };
  }

  /** Decodes a JSON value stored inline as UTF-8, or spilled to the blob store as `{blob}`. */
  async decode<T>(stored: Stored): Promise<T> {
    if (stored instanceof Uint8Array) return JSON.parse(decoder.decode(stored));
    const bytes = await this.blobs.get(stored.blob);
    if (!bytes) throw new Error(`Blob '${stored.blob}' is missing`);
    return JSON.parse(decoder.decode(bytes));
  }

  /**
   * Deletes a session's hot keys: the head first, then the rest in atomics
   * of 1,000. With `versionstamp`, nothing is deleted unless the head still
   * has it; returns whether it did. Its outbox entries are the drainer's.
   * `due` are its keys on the scheduler's index.
   */
  async deleteSession(
    id: string,
    opts: { versionstamp?: string; due?: Iterable<Deno.KvKey> } = {},
  ): Promise<boolean> {
    const rest: Deno.KvKey[] = [...opts.due ?? []];
    for await (const e of this.kv.list({ prefix: keys.session(id) })) {
      if (e.key[2] !== "h") rest.push(e.key);
    }
    const first = this.kv.atomic().delete(keys.head(id));
    if (opts.versionstamp) first.check({ key: keys.head(id), versionstamp: opts.versionstamp });
    for (const k of rest.splice(0, 999)) first.delete(k);
    if (!(await first.commit()).ok) return false;
    for (let i = 0; i < rest.length; i += 1000) {
      const op = this.kv.atomic();
      for (const k of rest.slice(i, i + 1000)) op.delete(k);
      await op.commit();
    }
    return true;
  }

  async #list(prefix: Deno.KvKey): Promise<Deno.KvEntry<unknown>[]> {
    const out: Deno.KvEntry<unknown>[] = [];
    for await (const e of this.kv.list({ prefix })) out.push(e);
    return out;
  }
}

/** Splits UTF-8 bytes into KV-sized chunks. */
export function chunk(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += VALUE_BYTES) {
    out.push(bytes.subarray(i, i + VALUE_BYTES));
  }
  return out.length === 0 ? [new Uint8Array(0)] : out;
}

function concat(parts: Uint8Array[]): Uint8Array {
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
