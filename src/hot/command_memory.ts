/**
 * Exactly-once commands: the last 1,000 command ids of a session and their
 * first results, kept in KV as pages of 16 slots in a compact form. A batch
 * rewrites only the pages it touches: remembering 250 ids costs 16 small
 * values, not 250 keys, and a batch of 5 ids rewrites one value of well
 * under 1 KB. A result over 512 bytes is not copied: the record points at
 * the command's own event, which carries it.
 *
 * @module
 */
import { utf8Length } from "../session.ts";
import { type HotStore, keys, utf8Decoder, utf8Encoder } from "./hot_store.ts";

/** How many command ids each session remembers. */
export const COMMAND_MEMORY = 1000;
/** Slots per KV value. */
export const PAGE_SLOTS = 16;
/** Results up to this many bytes are kept in the record itself. */
const INLINE_RESULT = 512;

/** A remembered command id and its first result (or the seq of the event that carries it). */
export interface CommandRecord {
  id: string;
  slot: number;
  version: number;
  result?: unknown;
  /** Seq of the event whose `data.result` is the result, when it was too large to copy. */
  ref?: number;
}

/** A record as stored: `[id, version]`, `[id, version, result]` or `[id, version, 0, ref]`. */
type Packed = [string, number] | [string, number, unknown] | [string, number, 0, number];

function pack(r: CommandRecord): Packed {
  if (r.ref !== undefined) return [r.id, r.version, 0, r.ref];
  return r.result === undefined ? [r.id, r.version] : [r.id, r.version, r.result];
}

function unpack(p: Packed, slot: number): CommandRecord {
  if (p.length === 4) return { id: p[0], slot, version: p[1], ref: p[3] };
  return p.length === 3
    ? { id: p[0], slot, version: p[1], result: p[2] }
    : { id: p[0], slot, version: p[1] };
}

/** One session's remembered command ids. */
export class CommandMemory {
  readonly #byId = new Map<string, CommandRecord>();
  readonly #bySlot = new Map<number, CommandRecord>();

  /** Loads the pages of session `id`. */
  static async load(hot: HotStore, id: string): Promise<CommandMemory> {
    const memory = new CommandMemory();
    for await (const e of hot.kv.list<Uint8Array>({ prefix: keys.commands(id) })) {
      const base = (e.key[3] as number) * PAGE_SLOTS;
      const page = JSON.parse(utf8Decoder.decode(e.value)) as (Packed | null)[];
      page.forEach((p, i) => p && memory.#set(unpack(p, base + i)));
    }
    return memory;
  }

  /** The record of command id `id`, if remembered. */
  get(id: string): CommandRecord | undefined {
    return this.#byId.get(id);
  }

  /** A record for a new command: the result inline when small, else a pointer to `eventSeq`. */
  static record(
    id: string,
    slot: number,
    version: number,
    result: unknown,
    eventSeq: number,
  ): CommandRecord {
    const json = JSON.stringify(result);
    if (json === undefined || utf8Length(json) <= INLINE_RESULT) {
      return { id, slot, version, result };
    }
    return { id, slot, version, ref: eventSeq };
  }

  /** The KV mutations that remember `records` on top of what is remembered now. */
  pages(
    sessionId: string,
    records: CommandRecord[],
    expireIn: number,
  ): { type: "set"; key: Deno.KvKey; value: Uint8Array; expireIn: number }[] {
    const touched = new Map<number, Map<number, CommandRecord>>();
    for (const r of records) {
      const page = Math.floor(r.slot / PAGE_SLOTS);
      let slots = touched.get(page);
      if (!slots) {
        slots = new Map();
        for (let s = page * PAGE_SLOTS; s < (page + 1) * PAGE_SLOTS; s++) {
          const old = this.#bySlot.get(s);
          if (old) slots.set(s, old);
        }
        touched.set(page, slots);
      }
      slots.set(r.slot, r);
    }
    return [...touched].map(([page, slots]) => {
      const packed = Array.from({ length: PAGE_SLOTS }, (_, i) => {
        const r = slots.get(page * PAGE_SLOTS + i);
        return r ? pack(r) : null;
      });
      return {
        type: "set" as const,
        key: keys.command(sessionId, page),
        value: utf8Encoder.encode(JSON.stringify(packed)),
        expireIn,
      };
    });
  }

  /** Adopts committed records, forgetting the ids whose slots they took. */
  remember(records: CommandRecord[]): void {
    for (const r of records) this.#set(r);
  }

  #set(r: CommandRecord): void {
    const old = this.#bySlot.get(r.slot);
    if (old) this.#byId.delete(old.id);
    this.#bySlot.set(r.slot, r);
    this.#byId.set(r.id, r);
  }
}
