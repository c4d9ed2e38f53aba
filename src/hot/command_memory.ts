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
  /** The record as stored (see {@linkcode Packed}), as JSON. */
  packed: string;
}

/** A record as stored: `[id, version]`, `[id, version, result]` or `[id, version, 0, ref]`. */
type Packed = [string, number] | [string, number, unknown] | [string, number, 0, number];

function unpack(packed: string, slot: number): CommandRecord {
  const p = JSON.parse(packed) as Packed;
  if (p.length === 4) return { id: p[0], slot, version: p[1], ref: p[3], packed };
  return p.length === 3
    ? { id: p[0], slot, version: p[1], result: p[2], packed }
    : { id: p[0], slot, version: p[1], packed };
}

/**
 * One session's remembered command ids. Each slot is kept as its stored
 * JSON and unpacked only when its id comes again, so remembering costs a
 * string per command and a page write is a join.
 */
export class CommandMemory {
  readonly #slotOf = new Map<string, number>();
  readonly #ids: (string | undefined)[] = [];
  readonly #packed: (string | undefined)[] = [];

  /** Loads the pages of session `id`. */
  static async load(hot: HotStore, id: string): Promise<CommandMemory> {
    const memory = new CommandMemory();
    for await (const e of hot.kv.list<Uint8Array>({ prefix: keys.commands(id) })) {
      const base = (e.key[3] as number) * PAGE_SLOTS;
      const page = JSON.parse(utf8Decoder.decode(e.value)) as (Packed | null)[];
      page.forEach((p, i) => p && memory.#set(p[0], base + i, JSON.stringify(p)));
    }
    return memory;
  }

  /** The record of command id `id`, if remembered. */
  get(id: string): CommandRecord | undefined {
    const slot = this.#slotOf.get(id);
    return slot === undefined ? undefined : unpack(this.#packed[slot]!, slot);
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
    const head = `[${JSON.stringify(id)},${version}`;
    if (json === undefined) return { id, slot, version, result, packed: `${head}]` };
    if (utf8Length(json) <= INLINE_RESULT) {
      return { id, slot, version, result, packed: `${head},${json}]` };
    }
    return { id, slot, version, ref: eventSeq, packed: `${head},0,${eventSeq}]` };
  }

  /** The KV mutations that remember `records` on top of what is remembered now. */
  pages(
    sessionId: string,
    records: CommandRecord[],
    expireIn: number,
  ): { type: "set"; key: Deno.KvKey; value: Uint8Array; expireIn: number }[] {
    const touched = new Map<number, (string | undefined)[]>();
    for (const r of records) {
      const page = Math.floor(r.slot / PAGE_SLOTS);
      let slots = touched.get(page);
      if (!slots) {
        slots = this.#packed.slice(page * PAGE_SLOTS, (page + 1) * PAGE_SLOTS);
        touched.set(page, slots);
      }
      slots[r.slot % PAGE_SLOTS] = r.packed;
    }
    return [...touched].map(([page, slots]) => {
      let json = "[";
      for (let i = 0; i < PAGE_SLOTS; i++) json += `${i ? "," : ""}${slots[i] ?? "null"}`;
      return {
        type: "set" as const,
        key: keys.command(sessionId, page),
        value: utf8Encoder.encode(`${json}]`),
        expireIn,
      };
    });
  }

  /** Adopts committed records, forgetting the ids whose slots they took. */
  remember(records: CommandRecord[]): void {
    for (const r of records) this.#set(r.id, r.slot, r.packed);
  }

  #set(id: string, slot: number, packed: string): void {
    const old = this.#ids[slot];
    if (old !== undefined) this.#slotOf.delete(old);
    this.#ids[slot] = id;
    this.#packed[slot] = packed;
    this.#slotOf.set(id, slot);
  }
}
