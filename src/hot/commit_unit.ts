/**
 * Turns a finished batch into one commit unit: the head with the batch's ops
 * and command ids in its tail (or, once the tail is full, a log entry and
 * command pages; or a snapshot when the log has outgrown the state) and the
 * outbox entries, all behind one versionstamp check.
 *
 * @module
 */
import { iso } from "../clock.ts";
import type { SessionRecord } from "../history/history_store.ts";
import {
  chunk,
  dueKeys,
  encodeHead,
  type Head,
  HEAD_CHARS,
  headFields,
  type HotSession,
  keys,
  type RecordLookup,
  storedBytes,
  tailChars,
  utf8Encoder,
  VALUE_BYTES,
} from "./layout.ts";
import { SPILLED_MARK } from "./outbox.ts";
import type { BlobStore } from "../blobs/blob_store.ts";
import {
  type CommandMemory,
  type CommandPages,
  type CommandRecord,
  tailRecords,
} from "./command_memory.ts";
import { DEFAULT_TTL, type Session, type SessionEvent } from "../session.ts";
import type { Coordination, CoordRecord, RecordType } from "../coordination/model.ts";
import type { CommitUnit } from "./hot_tier.ts";

/** The value of an index key: the key says it all. */
const NO_VALUE = new Uint8Array(0);

/** Tuning of the hot tier's layout. */
export interface UnitOptions {
  /** Added to the TTL for KV's `expireIn`, so that the sweeper moves a session to SQL before KV drops it. */
  readonly graceMs: number;
  /** Log entries after which a snapshot is written. */
  readonly snapshotEvery: number;
}

/** A finished turn, as the layout reads it (an actor's `Turn` is one). */
export interface UnitTurn {
  readonly id: string;
  readonly now: number;
  readonly head: Head;
  readonly state: Record<string, unknown>;
  /** Log items of this turn: the JSON of `[seq, ops]`. */
  readonly log: readonly string[];
  readonly events: readonly SessionEvent[];
  /** The JSON of event `i`, made once. */
  eventJson(i: number): string;
  /** Whether the session reached a terminal status: its keys expire after the grace only. */
  readonly terminal: boolean;
  /** Whether a snapshot must be written (a checkpoint, a restore). */
  readonly snapshot: boolean;
  readonly report: unknown;
  /** The kind's searchable state fields, when it has any. */
  readonly kind?: { readonly search?: readonly string[] };
  readonly coord: UnitRecords;
  /** Keys to delete with the unit (index keys of records that came due). */
  readonly stale: readonly Deno.KvKey[];
}

/** The coordination records of a turn: the committed ones and the turn's changes. */
export interface UnitRecords extends RecordLookup {
  /** Whether the turn changed any record. */
  readonly changed: boolean;
  /** Records held once the turn commits. */
  total(): number;
  /** The turn's changes; `value` null for a removed record. */
  changes(): Iterable<{ type: RecordType; id: string; value: CoordRecord | null }>;
  /** Every record once the turn commits. */
  result(): Coordination;
}

/** A built unit, and how to undo its side effects if it does not commit. */
export interface BuiltUnit {
  unit: CommitUnit;
  head: Head;
  /** The command pages the unit writes, for the memory to adopt once it commits. */
  pages?: CommandPages;
  /** The soonest due time of the scheduler's index keys the unit writes, if any. */
  nextDue?: number;
  /** Deletes blobs written for this unit. */
  discard(): Promise<void>;
}

/** An empty head for a session that does not exist yet. */
export function headOf(id: string, now: number): Head {
  const at = iso(now);
  return {
    id,
    kind: "default",
    tags: [],
    meta: {},
    status: "active",
    phase: "init",
    agents: {},
    progress: 0,
    pendingApprovals: 0,
    openConflicts: 0,
    version: 0,
    ttl: DEFAULT_TTL,
    createdAt: at,
    updatedAt: at,
    expiresAt: iso(now + DEFAULT_TTL.active),
    snap: { seq: 0, chunks: 0, bytes: 0, at: now },
    logs: [],
    logBytes: 0,
    cmds: 0,
  };
}

/** The public session of a head and a state. */
export function sessionOf(head: Head, state: Record<string, unknown>): Session {
  const { snap: _s, logs: _l, logBytes: _b, cmds: _c, tail: _t, records: _r, ...session } = head;
  return { ...session, state };
}

/** Builds the unit for a finished turn over `base` (undefined for a new session). */
export async function buildUnit(
  opts: UnitOptions & { blobs: BlobStore },
  base: HotSession | undefined,
  turn: UnitTurn,
  records: CommandRecord[],
  memory: CommandMemory | undefined,
): Promise<BuiltUnit> {
  const id = turn.id;
  const now = turn.now;
  const mutations: Deno.KvMutation[] = [];
  const blobs: string[] = [];
  let bytes = 0;
  const blobKey = (tag: string) => {
    const key = `${id}/${tag}-${crypto.randomUUID().slice(0, 8)}`;
    blobs.push(key);
    return key;
  };
  let head: Head = turn.head;
  if (head.status === "active" && turn.events.length > 0) {
    head = { ...head, expiresAt: iso(now + head.ttl.active) };
  }
  const ttl = head.status === "paused" ? head.ttl.paused : head.ttl.active;
  const expireIn = (turn.terminal ? 0 : ttl) + opts.graceMs;
  const set = (key: Deno.KvKey, value: Uint8Array, expires = expireIn) => {
    mutations.push({ type: "set", key, value, expireIn: expires });
    bytes += storedBytes(value);
  };

  // Coordination: the changed records, and the scheduler's index keys that moved with them.
  const held = turn.coord.changed ? turn.coord.total() : head.records ?? 0;
  if ((head.records ?? 0) !== held) head = { ...head, records: held || undefined };
  for (const c of turn.coord.changes()) {
    const key = keys.record(id, c.type, c.id);
    if (c.value === null) mutations.push({ type: "delete", key });
    else set(key, utf8Encoder.encode(JSON.stringify(c.value)));
  }
  // A status that moved puts every record on the index or takes it off; else only the changed.
  const statusMoved = base !== undefined && base.head.status !== head.status;
  const only = statusMoved ? undefined : turn.coord;
  const before = base ? dueKeys(base.head, base.coord, only) : [];
  const after = new Map(dueKeys(head, statusMoved ? turn.coord.result() : turn.coord, only));
  for (const [k, key] of before) {
    if (after.get(k)?.[1] === key[1]) after.delete(k); // still due at the same time
    else mutations.push({ type: "delete", key });
  }
  let nextDue: number | undefined;
  for (const key of after.values()) {
    const due = key[1] as number;
    set(key, NO_VALUE, Math.max(0, due - now) + opts.graceMs);
    if (nextDue === undefined || due < nextDue) nextDue = due;
  }
  for (const key of turn.stale) mutations.push({ type: "delete", key });

  // State and command ids: most turns only add to the head's tail. A full tail goes out as a
  // log entry and command pages; a snapshot folds the log when it has outgrown the state.
  const stale = now - head.snap.at > opts.graceMs / 2; // keep the chunks' expireIn fresh
  const tail = head.tail ?? { log: [], cmds: [] };
  let log = turn.log.length > 0 ? [...tail.log, ...turn.log] : tail.log;
  let cmds = records.length > 0 ? [...tail.cmds, ...records.map((r) => r.packed)] : tail.cmds;
  let fields: string | undefined = headFields(head); // undefined once the fields change
  const full = fields.length + tailChars(log, cmds) > HEAD_CHARS;
  let snapshot = turn.snapshot || stale || base === undefined;
  let logValue: Uint8Array | undefined;
  if (full && !snapshot && log.length > 0) {
    logValue = utf8Encoder.encode(`[${log.join(",")}]`);
    const outgrown = head.logBytes + logValue.byteLength > Math.max(head.snap.bytes, 64 * 1024);
    if (logValue.byteLength > VALUE_BYTES || outgrown || head.logs.length >= opts.snapshotEvery) {
      snapshot = true;
    }
  }
  if (snapshot) {
    const json = utf8Encoder.encode(JSON.stringify(turn.state));
    const parts = chunk(json);
    parts.forEach((part, i) => set(keys.chunk(id, i), part));
    for (let i = parts.length; i < head.snap.chunks; i++) {
      mutations.push({ type: "delete", key: keys.chunk(id, i) });
    }
    for (const seq of head.logs) mutations.push({ type: "delete", key: keys.log(id, seq) });
    head = {
      ...head,
      snap: { seq: head.version, chunks: parts.length, bytes: json.byteLength, at: now },
      logs: [],
      logBytes: 0,
    };
    fields = undefined;
    log = [];
  } else if (logValue) {
    const seq = Number(log[0].slice(1, log[0].indexOf(","))); // each item is `[seq,ops]`
    set(keys.log(id, seq), logValue);
    head = { ...head, logs: [...head.logs, seq], logBytes: head.logBytes + logValue.byteLength };
    fields = undefined;
    log = [];
  }
  // Records join the pages once the tail is full and the pages' other slots are in memory; the
  // memory is loaded whenever this batch has records, so the tail cannot grow without it.
  let pages: CommandPages | undefined;
  if (full && memory && cmds.length > 0) {
    pages = memory.pages(id, tailRecords(head.cmds, cmds), expireIn);
    for (const m of pages.mutations) {
      mutations.push(m);
      bytes += storedBytes(m.value);
    }
    cmds = [];
  }
  head = { ...head, tail: log.length > 0 || cmds.length > 0 ? { log, cmds } : undefined };

  // The outbox entries go to the committer as UTF-8 JSON fragments: it packs the fragments of
  // every session in one atomic into shared values.
  const outbox: Uint8Array[] = [];
  for (const entry of turn.events.length ? outboxEntries(turn, recordOf(head, turn)) : []) {
    let json = utf8Encoder.encode(entry.json);
    if (json.byteLength > VALUE_BYTES - 1024) {
      const key = blobKey(`o${entry.seq}`);
      await opts.blobs.put(key, json);
      json = utf8Encoder.encode(`${SPILLED_MARK}${JSON.stringify(key)}}`);
    }
    outbox.push(json);
    bytes += json.byteLength + 16;
  }

  set(keys.head(id), encodeHead(head, fields));
  return {
    unit: {
      check: { key: keys.head(id), versionstamp: base?.versionstamp ?? null },
      mutations,
      outbox,
      bytes,
    },
    head,
    pages,
    nextDue,
    discard: async () => {
      await Promise.all(blobs.map((k) => opts.blobs.delete(k).catch(() => {})));
    },
  };
}

/** The index row the drainer writes to SQL; terminal rows carry the final state and report. */
function recordOf(head: Head, turn: UnitTurn): SessionRecord {
  const { snap: _s, logs: _l, logBytes: _b, cmds: _c, tail: _t, records: _r, ...session } = head;
  const fields = turn.kind?.search ?? [];
  const searchText = fields.length > 0 ? searchableText(turn.state, fields) : "";
  const base: SessionRecord = searchText ? { ...session, searchText } : session;
  if (!turn.terminal) return base;
  const record: SessionRecord = {
    ...base,
    state: turn.state,
    coordination: turn.coord.result(),
  };
  if (turn.report !== undefined) record.report = turn.report;
  return record;
}

/** Characters of a kind's searchable state fields kept for search, at most. */
const SEARCH_CHARS = 4096;

/** The text of the state fields a kind marks searchable: strings, and arrays of strings, joined. */
function searchableText(state: Record<string, unknown>, fields: readonly string[]): string {
  const parts: string[] = [];
  for (const f of fields) {
    const v = Object.hasOwn(state, f) ? state[f] : undefined;
    if (typeof v === "string") parts.push(v);
    else if (Array.isArray(v)) { for (const x of v) if (typeof x === "string") parts.push(x); }
  }
  return parts.join(" ").slice(0, SEARCH_CHARS);
}

/**
 * Packs a turn's events into outbox entries (the JSON of an `OutboxEntry` of `hot_store.ts`) of about
 * one KV value, from each event's JSON made once; the last entry carries the index row.
 */
function outboxEntries(turn: UnitTurn, session: SessionRecord): { seq: number; json: string }[] {
  const out: { seq: number; json: string }[] = [];
  let current: string[] = [];
  let first = 0;
  let size = 0;
  const close = (tail: string) =>
    out.push({ seq: first, json: `{"events":[${current.join(",")}]${tail}}` });
  turn.events.forEach((e, i) => {
    const json = turn.eventJson(i);
    if (current.length > 0 && size + json.length > VALUE_BYTES / 2) {
      close("");
      current = [];
      size = 0;
    }
    if (current.length === 0) first = e.seq;
    current.push(json);
    size += json.length;
  });
  close(`,"session":${JSON.stringify(session)}`);
  return out;
}
