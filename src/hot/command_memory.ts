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
import { type Head, keys, utf8Decoder, utf8Encoder } from "./layout.ts";

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

function unpack(p: Packed, slot: number): CommandRecord {
  const packed = JSON.stringify(p);
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
  const first = firstTailSlot(count, packed.length);
  return packed.map((p, i) => ({ slot: (first + i) % COMMAND_MEMORY, packed: p }));
}

/** The slot of the first of the `n` records remembered last, when `count` ids ever were. */
function firstTailSlot(count: number, n: number): number {
  return (count - n) % COMMAND_MEMORY;
}

/** A 32-bit FNV-1a hash of `id`, never 0 (0 marks an empty slot). */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}

/** The command pages a full tail rewrites: their KV mutations, and their JSON by page number. */
export interface CommandPages {
  mutations: { type: "set"; key: Deno.KvKey; value: Uint8Array; expireIn: number }[];
  json: Map<number, string>;
}

/**
 * One session's remembered command ids. A live actor may keep up to 1,000,
 * so they are held with as few heap objects as possible: the ids are found
 * through a typed array of their hashes, and each record is read, only when
 * its hash comes again, from the JSON of its page as stored (one flat string
 * per 16 slots) or from the committed head's tail. A server with thousands
 * of actors then holds 64 strings an actor, not 1,000, and its garbage
 * collector has that much less to trace and to move.
 */
export class CommandMemory {
  #hashes = new Int32Array(PAGE_SLOTS);
  /** Each page's stored JSON: 16 packed records or nulls. */
  readonly #pages: (string | undefined)[] = [];
  /** The committed tail's packed records (slots not yet in their pages), and the first one's slot. */
  #tail: readonly string[] = [];
  #tailSlot = 0;

  /** Loads the pages of session `id`, then the records in the tail of its committed `head`. */
  static async load(kv: Deno.Kv, id: string, head: Head | undefined): Promise<CommandMemory> {
    const memory = new CommandMemory();
    for await (const e of kv.list<Uint8Array>({ prefix: keys.commands(id) })) {
      const page = e.key[3] as number;
      const json = utf8Decoder.decode(e.value);
      memory.#pages[page] = json;
      (JSON.parse(json) as (Packed | null)[]).forEach((p, i) => {
        if (p) memory.#hash(page * PAGE_SLOTS + i, p[0]);
      });
    }
    memory.#adoptTail(head);
    for (const r of tailRecords(head?.cmds ?? 0, memory.#tail)) {
      memory.#hash(r.slot, (JSON.parse(r.packed) as Packed)[0]);
    }
    return memory;
  }

  /** The record of command id `id`, if remembered. */
  get(id: string): CommandRecord | undefined {
    const h = hashId(id);
    const hashes = this.#hashes;
    for (let slot = 0; slot < hashes.length; slot++) {
      if (hashes[slot] !== h) continue;
      const p = this.#packedAt(slot);
      if (p?.[0] === id) return unpack(p, slot);
    }
    return undefined;
  }

  #packedAt(slot: number): Packed | null | undefined {
    const inTail = (slot - this.#tailSlot + COMMAND_MEMORY) % COMMAND_MEMORY;
    if (inTail < this.#tail.length) return JSON.parse(this.#tail[inTail]) as Packed;
    const page = this.#pages[Math.floor(slot / PAGE_SLOTS)];
    return page === undefined
      ? undefined
      : (JSON.parse(page) as (Packed | null)[])[slot % PAGE_SLOTS];
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
    // several heap objects per id for as long as the id rides in the head's tail.
    const json = JSON.stringify(result);
    if (json === undefined) {
      return { id, slot, version, result, packed: JSON.stringify([id, version]) };
    }
    if (utf8Length(json) <= INLINE_RESULT) {
      return { id, slot, version, result, packed: JSON.stringify([id, version, result]) };
    }
    return { id, slot, version, ref: eventSeq, packed: JSON.stringify([id, version, 0, eventSeq]) };
  }

  /** The pages that remember `records` on top of what the pages hold now. */
  pages(
    sessionId: string,
    records: readonly Pick<CommandRecord, "slot" | "packed">[],
    expireIn: number,
  ): CommandPages {
    const touched = new Map<number, string[]>();
    for (const r of records) {
      const page = Math.floor(r.slot / PAGE_SLOTS);
      let slots = touched.get(page);
      if (!slots) {
        const stored = this.#pages[page];
        slots = stored === undefined
          ? []
          : (JSON.parse(stored) as (Packed | null)[]).map((p) => JSON.stringify(p));
        touched.set(page, slots);
      }
      slots[r.slot % PAGE_SLOTS] = r.packed;
    }
    const out: CommandPages = { mutations: [], json: new Map() };
    for (const [page, slots] of touched) {
      const value = utf8Encoder.encode(
        `[${Array.from({ length: PAGE_SLOTS }, (_, i) => slots[i] ?? "null").join(",")}]`,
      );
      // Kept as the decoded value: one flat string, where the template above is a rope.
      out.json.set(page, utf8Decoder.decode(value));
      out.mutations.push({ type: "set", key: keys.command(sessionId, page), value, expireIn });
    }
    return out;
  }

  /**
   * Adopts a commit: its new `records`, the `pages` it wrote, and the tail
   * of its `head`. The ids whose slots the records took are forgotten.
   */
  remember(records: readonly CommandRecord[], head: Head, pages?: CommandPages): void {
    for (const r of records) this.#hash(r.slot, r.id);
    for (const [page, json] of pages?.json ?? []) this.#pages[page] = json;
    this.#adoptTail(head);
  }

  #adoptTail(head: Head | undefined): void {
    this.#tail = head?.tail?.cmds ?? [];
    this.#tailSlot = firstTailSlot(head?.cmds ?? 0, this.#tail.length);
  }

  #hash(slot: number, id: string): void {
    if (slot >= this.#hashes.length) {
      const grown = new Int32Array(
        Math.min(COMMAND_MEMORY, Math.max(slot + 1, this.#hashes.length * 2)),
      );
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[slot] = hashId(id);
  }
}
