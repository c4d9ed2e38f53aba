/**
 * Exactly-once commands: the last 1,000 command ids of a session and their
 * first results, kept in KV as pages of 16 slots in a compact form. The ids
 * of the last few commits ride in the head's tail (`hot_store.ts`); a full
 * tail rewrites only the pages it touches: remembering 250 ids costs 16
 * small values, not 250 keys. A result over 512 bytes is not copied: the
 * record points at the command's own event, which carries it.
 *
 * @module
 */
import { utf8Length } from "../session.ts";
import { type Head, type HotStore, keys, utf8Decoder, utf8Encoder } from "./hot_store.ts";

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
 * The slots of packed records that were remembered last, oldest first, when
 * `count` ids were ever remembered: the last one took slot `(count - 1) % 1000`.
 */
export function tailRecords(
  count: number,
  packed: readonly string[],
): { slot: number; packed: string }[] {
  const first = count - packed.length;
  return packed.map((p, i) => ({ slot: (first + i) % COMMAND_MEMORY, packed: p }));
}

/** A 32-bit FNV-1a hash of `id`, never 0 (0 marks an empty slot). */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}

/**
 * One session's remembered command ids. A live actor may keep up to 1,000,
 * so they are held with as few heap objects as possible: each slot is its
 * stored JSON (one flat string, unpacked only when its id comes again) and
 * the ids are found through a typed array of their hashes, with no string
 * or map entry of their own. Fewer objects is less for the GC to trace on
 * a server with thousands of actors.
 */
export class CommandMemory {
  #hashes = new Int32Array(PAGE_SLOTS);
  readonly #packed: (string | undefined)[] = [];

  /** Loads the pages of session `id`, then the records in the tail of its committed `head`. */
  static async load(hot: HotStore, id: string, head: Head | undefined): Promise<CommandMemory> {
    const memory = new CommandMemory();
    for await (const e of hot.kv.list<Uint8Array>({ prefix: keys.commands(id) })) {
      const base = (e.key[3] as number) * PAGE_SLOTS;
      const page = JSON.parse(utf8Decoder.decode(e.value)) as (Packed | null)[];
      page.forEach((p, i) => p && memory.#set(p[0], base + i, JSON.stringify(p)));
    }
    for (const r of tailRecords(head?.cmds ?? 0, head?.tail?.cmds ?? [])) {
      memory.#set((JSON.parse(r.packed) as Packed)[0], r.slot, r.packed);
    }
    return memory;
  }

  /** The record of command id `id`, if remembered. */
  get(id: string): CommandRecord | undefined {
    const h = hashId(id);
    const hashes = this.#hashes;
    for (let slot = 0; slot < hashes.length; slot++) {
      if (hashes[slot] !== h) continue;
      const record = unpack(this.#packed[slot]!, slot);
      if (record.id === id) return record;
    }
    return undefined;
  }

  /** A record for a new command: the result inline when small, else a pointer to `eventSeq`. */
  static record(
    id: string,
    slot: number,
    version: number,
    result: unknown,
    eventSeq: number,
  ): CommandRecord {
    // Each `packed` is one JSON.stringify, a flat string: concatenation would keep a rope of
    // several heap objects per remembered id, for as long as the id is remembered.
    const json = JSON.stringify(result);
    if (json === undefined) {
      return { id, slot, version, result, packed: JSON.stringify([id, version]) };
    }
    if (utf8Length(json) <= INLINE_RESULT) {
      return { id, slot, version, result, packed: JSON.stringify([id, version, result]) };
    }
    return { id, slot, version, ref: eventSeq, packed: JSON.stringify([id, version, 0, eventSeq]) };
  }

  /** The KV mutations that remember `records` on top of what is remembered now. */
  pages(
    sessionId: string,
    records: readonly Pick<CommandRecord, "slot" | "packed">[],
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
      const json = Array.from({ length: PAGE_SLOTS }, (_, i) => slots[i] ?? "null").join(",");
      return {
        type: "set" as const,
        key: keys.command(sessionId, page),
        value: utf8Encoder.encode(`[${json}]`),
        expireIn,
      };
    });
  }

  /** Adopts committed records, forgetting the ids whose slots they took. */
  remember(records: CommandRecord[]): void {
    for (const r of records) this.#set(r.id, r.slot, r.packed);
  }

  #set(id: string, slot: number, packed: string): void {
    if (slot >= this.#hashes.length) {
      const grown = new Int32Array(
        Math.min(COMMAND_MEMORY, Math.max(slot + 1, this.#hashes.length * 2)),
      );
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[slot] = hashId(id);
    this.#packed[slot] = packed;
  }
}
