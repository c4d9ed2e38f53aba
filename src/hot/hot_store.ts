/**
 * The hot tier over Deno KV: the one place that reads and writes it. The
 * layout is in `layout.ts`, the outbox's format in `outbox.ts`, and a
 * commit unit's in `commit_unit.ts`.
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import type { BlobStore } from "../blobs/blob_store.ts";
import { type CoordRecord, emptyCoordination, type RecordType } from "../coordination/model.ts";
import { UnavailableError } from "../errors.ts";
import type { SessionEvent } from "../session.ts";
import { buildUnit, type BuiltUnit, type UnitOptions, type UnitTurn } from "./commit_unit.ts";
import { CommandMemory, type CommandRecord } from "./command_memory.ts";
import type { CommitUnit, HotTier, WriteResult } from "./hot_tier.ts";
import {
  concat,
  decodeHead,
  dueKeys,
  type Head,
  type HotSession,
  keys,
  type Stored,
  utf8Decoder,
} from "./layout.ts";
import {
  type CommittedOutbox,
  mayHoldSpilled,
  outboxCommitKey,
  type OutboxEntry,
  type OutboxValue,
  packOutbox,
} from "./outbox.ts";

/** Keys of the due index read a page. */
const DUE_PAGE = 500;

const decoder = utf8Decoder;

/** The hot tier in a Deno KV, with a blob store for values over one KV value. */
export class HotStore implements HotTier {
  readonly #kv: Deno.Kv;
  readonly #blobs: BlobStore;
  readonly #unit: UnitOptions & { blobs: BlobStore };

  /** `unit` tunes the layout (see {@linkcode UnitOptions}). */
  constructor(kv: Deno.Kv, blobs: BlobStore, unit: UnitOptions) {
    this.#kv = kv;
    this.#blobs = blobs;
    this.#unit = { ...unit, blobs };
  }

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
      const head = await this.#kv.get<Uint8Array | Head>(keys.head(id));
      if (head.value === null) return undefined;
      const h0 = decodeHead(head.value);
      const [chunks, logs, records] = await Promise.all([
        this.#list(keys.chunks(id)),
        this.#list(keys.logs(id)),
        h0.records ? this.#list(keys.records(id)) : [],
      ]);
      const again = await this.#kv.get(keys.head(id));
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
    const bytes = await this.#blobs.get(stored.blob);
    if (!bytes) throw new Error(`Blob '${stored.blob}' is missing`);
    return JSON.parse(decoder.decode(bytes));
  }

  /**
   * Deletes a session's hot keys: the head first, then the rest in atomics
   * of 1,000. Its outbox entries are the drainer's.
   */
  async deleteSession(
    id: string,
    opts: { versionstamp?: string; loaded?: HotSession } = {},
  ): Promise<boolean> {
    const { loaded } = opts;
    const rest = loaded ? dueKeys(loaded.head, loaded.coord).map(([, key]) => key) : [];
    for await (const e of this.#kv.list({ prefix: keys.session(id) })) {
      if (e.key[2] !== "h") rest.push(e.key);
    }
    const first = this.#kv.atomic().delete(keys.head(id));
    if (opts.versionstamp) first.check({ key: keys.head(id), versionstamp: opts.versionstamp });
    for (const k of rest.splice(0, 999)) first.delete(k);
    if (!(await first.commit()).ok) return false;
    for (let i = 0; i < rest.length; i += 1000) {
      const op = this.#kv.atomic();
      for (const k of rest.slice(i, i + 1000)) op.delete(k);
      await op.commit();
    }
    return true;
  }

  async #list(prefix: Deno.KvKey): Promise<Deno.KvEntry<unknown>[]> {
    const out: Deno.KvEntry<unknown>[] = [];
    for await (const e of this.#kv.list({ prefix })) out.push(e);
    return out;
  }

  /** The versionstamp of the session's head, or null when it has none. */
  async headVersionstamp(id: string): Promise<string | null> {
    return (await this.#kv.get(keys.head(id))).versionstamp;
  }

  watchHead(id: string, changed: (versionstamp: string | null) => void): () => void {
    const reader = this.#kv.watch([keys.head(id)]).getReader();
    let stopped = false;
    (async () => {
      try {
        while (!stopped) {
          const { value, done } = await reader.read();
          if (done) return;
          changed(value[0].versionstamp);
        }
      } catch {
        // KV closed: nothing more to watch
      }
    })();
    return () => {
      stopped = true;
      reader.cancel().catch(() => {});
    };
  }

  commandMemory(id: string, head: Head | undefined): Promise<CommandMemory> {
    return CommandMemory.load(this.#kv, id, head);
  }

  buildUnit(
    base: HotSession | undefined,
    turn: UnitTurn,
    records: CommandRecord[],
    memory: CommandMemory | undefined,
  ): Promise<BuiltUnit> {
    return buildUnit(this.#unit, base, turn, records, memory);
  }

  async write(
    units: readonly CommitUnit[],
    deletes: readonly Deno.KvKey[] = [],
  ): Promise<WriteResult> {
    const commit = outboxCommitKey();
    const outbox = packOutbox(units.flatMap((u) => u.outbox ?? []))
      .map((value, i) => ({ key: keys.outbox(commit, i), value }));
    const op = this.#kv.atomic();
    for (const u of units) {
      if (u.check) op.check(u.check);
      op.mutate(...u.mutations);
    }
    for (const { key, value } of outbox) op.set(key, value);
    for (const key of deletes) op.delete(key);
    const result = await op.commit();
    return result.ok ? { ok: true, versionstamp: result.versionstamp, outbox } : { ok: false };
  }

  async deleteKeys(keys: readonly Deno.KvKey[]): Promise<void> {
    const op = this.#kv.atomic();
    for (const key of keys) op.delete(key);
    await op.commit();
  }

  outboxBound(): string {
    return outboxCommitKey();
  }

  async readOutbox(
    opts: { after?: Deno.KvKey; upTo?: string; limit: number },
  ): Promise<CommittedOutbox[]> {
    const { after, upTo, limit } = opts;
    const prefix = keys.outboxAll;
    const values: CommittedOutbox[] = [];
    const selector = after ? { prefix, start: after } : { prefix };
    for await (const e of this.#kv.list<Uint8Array>(selector, { limit: limit + 1 })) {
      if (after && sameKey(e.key, after)) continue;
      if (upTo !== undefined && (e.key[1] as string) > upTo) break;
      values.push({ key: e.key, value: e.value });
      if (values.length === limit) break;
    }
    return values;
  }

  mayHoldSpilled(value: Uint8Array): boolean {
    return mayHoldSpilled(value);
  }

  async dropSpilled(blobs: readonly string[]): Promise<void> {
    await Promise.all(blobs.map((k) => this.#blobs.delete(k)));
  }

  async outboxEvents(id: string, after: number, upTo: number): Promise<SessionEvent[]> {
    const found: SessionEvent[] = [];
    // The outbox is shared by all sessions, but short: the drainer keeps it near empty.
    for await (const e of this.#kv.list<Uint8Array>({ prefix: keys.outboxAll })) {
      for (const entry of (await this.outboxEntries(e.value)).entries) {
        if (entry.events[0]?.sessionId !== id) continue;
        for (const ev of entry.events) if (ev.seq > after && ev.seq <= upTo) found.push(ev);
      }
    }
    return found;
  }

  async nextDue(): Promise<number | undefined> {
    for await (const e of this.#kv.list({ prefix: keys.dueAll }, { limit: 1 })) {
      return e.key[1] as number;
    }
    return undefined;
  }

  async *due(until: number): AsyncIterable<Deno.KvKey> {
    const range = { start: keys.dueAll, end: [...keys.dueAll, until + 1] };
    for await (const e of this.#kv.list(range, { batchSize: DUE_PAGE })) yield e.key;
  }

  async countDue(max: number): Promise<Record<RecordType, number>> {
    const counts: Record<RecordType, number> = { timers: 0, approvals: 0, tasks: 0, conflicts: 0 };
    let n = 0;
    for await (const e of this.#kv.list({ prefix: keys.dueAll }, { batchSize: 1000 })) {
      counts[e.key[3] as RecordType]++;
      if (++n >= max) break;
    }
    return counts;
  }

  async deleteDue(key: Deno.KvKey): Promise<void> {
    await this.#kv.delete(key);
  }

  async markImport(id: string, at: number): Promise<void> {
    await this.#kv.set(keys.importing(id), at);
  }

  async unmarkImport(id: string): Promise<void> {
    await this.#kv.delete(keys.importing(id));
  }

  async *importMarks(): AsyncIterable<{ id: string; at: number }> {
    for await (const e of this.#kv.list<number>({ prefix: keys.importingAll })) {
      yield { id: e.key[1] as string, at: e.value };
    }
  }

  async ping(): Promise<void> {
    await this.#kv.get(["healthz"]);
  }
}

function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
