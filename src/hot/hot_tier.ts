/**
 * What the rest of Denizen asks of the hot tier. The actor loads sessions,
 * builds commit units and watches heads; the group committer writes atomics;
 * the drainer reads and empties the outbox; the scheduler reads the due
 * index. Only the hot tier knows the KV layout (`layout.ts`), the outbox's
 * format (`outbox.ts`) and `Deno.Kv` itself. `tests/hot/hot_tier_conformance.ts`
 * is what an implementation must pass.
 *
 * @module
 */
import type { BuiltUnit, UnitTurn } from "./commit_unit.ts";
import type { CommandMemory, CommandRecord } from "./command_memory.ts";
import type { HotSession } from "./layout.ts";
import type { CommittedOutbox, OutboxEntry } from "./outbox.ts";
import type { RecordType } from "../coordination/model.ts";
import type { SessionEvent } from "../session.ts";

/** One session's share of an atomic: the versionstamp check of its head, and its mutations. */
export interface CommitUnit {
  readonly check?: Deno.AtomicCheck;
  readonly mutations: Deno.KvMutation[];
  /** Outbox entries as UTF-8 JSON fragments, packed with other units' into shared values. */
  readonly outbox?: readonly Uint8Array[];
  /** Estimated bytes of keys and values. */
  readonly bytes: number;
}

/** The result of an atomic: the versionstamp and the outbox values it wrote, or a lost check. */
export type WriteResult =
  | { ok: true; versionstamp: string; outbox: CommittedOutbox[] }
  | { ok: false };

/** A key of the scheduler's index: a record of a session that comes due at `due` (ms). */
export interface DueKey {
  readonly due: number;
  readonly session: string;
  readonly type: RecordType;
  readonly id: string;
}

/** The hot tier: sessions' live state, the outbox and the due index, in Deno KV. */
export interface HotTier {
  /** Loads a session: head, state and coordination records. Undefined when it has none. */
  load(id: string): Promise<HotSession | undefined>;
  /** The versionstamp of the session's head, or null when it has none: one read. */
  headVersionstamp(id: string): Promise<string | null>;
  /** Calls `changed` whenever the session's head changes, until the returned stop is called. */
  watchHead(id: string, changed: (versionstamp: string | null) => void): () => void;
  /** The session's remembered command ids. */
  commandMemory(id: string, head: HotSession["head"] | undefined): Promise<CommandMemory>;
  /** Lays out a finished turn over `base` (undefined for a new session) as one commit unit. */
  buildUnit(
    base: HotSession | undefined,
    turn: UnitTurn,
    records: CommandRecord[],
    memory: CommandMemory | undefined,
  ): Promise<BuiltUnit>;
  /**
   * Writes `units` (each behind its check), their outbox fragments and the
   * unchecked `deletes` in one atomic. Throws what KV throws.
   */
  write(units: readonly CommitUnit[], deletes?: readonly Deno.KvKey[]): Promise<WriteResult>;
  /** Deletes `keys` in one unchecked atomic (at most 1,000). */
  deleteKeys(keys: readonly Deno.KvKey[]): Promise<void>;
  /**
   * Deletes a session's keys; with `versionstamp`, only if its head still has
   * it. With `loaded` (the session as loaded), its keys on the due index go
   * too; without, they go when they come due. Returns whether it deleted.
   */
  deleteSession(
    id: string,
    opts?: { versionstamp?: string; loaded?: HotSession },
  ): Promise<boolean>;

  /** A bound that sorts after every outbox value committed before this call. */
  outboxBound(): string;
  /** Up to `limit` outbox values in commit order, after `after`, committed no later than `upTo`. */
  readOutbox(
    opts: { after?: Deno.KvKey; upTo?: string; limit: number },
  ): Promise<CommittedOutbox[]>;
  /** The entries of one outbox value, spilled ones read back; `spilled` names their blobs. */
  outboxEntries(value: Uint8Array): Promise<{ entries: OutboxEntry[]; spilled: string[] }>;
  /** Whether an outbox value may name spilled entries (if not, its bytes are the entries' JSON). */
  mayHoldSpilled(value: Uint8Array): boolean;
  /** Deletes the blobs of spilled outbox entries once they are in SQL. */
  dropSpilled(blobs: readonly string[]): Promise<void>;
  /** Session `id`'s events with seq in (after, upTo] still in the outbox. */
  outboxEvents(id: string, after: number, upTo: number): Promise<SessionEvent[]>;

  /** The earliest due time on the index, or undefined. */
  nextDue(): Promise<number | undefined>;
  /** The index's keys due by `until`, in due order. */
  due(until: number): AsyncIterable<Deno.KvKey>;
  /** Keys on the index by record type, counting at most `max`. */
  countDue(max: number): Promise<Record<RecordType, number>>;
  /** Removes one key from the index. */
  deleteDue(key: Deno.KvKey): Promise<void>;

  /** Marks session `id`'s archive import as begun at `at` (epoch ms). */
  markImport(id: string, at: number): Promise<void>;
  /** Removes the mark of `id`'s import. */
  unmarkImport(id: string): Promise<void>;
  /** The marks of imports in progress. */
  importMarks(): AsyncIterable<{ id: string; at: number }>;

  /** Throws unless KV answers a read. */
  ping(): Promise<void>;
}

/** Reads a due index key. */
export function dueKeyOf(key: Deno.KvKey): DueKey {
  const [, due, session, type, id] = key as [string, number, string, RecordType, string];
  return { due, session, type, id };
}
