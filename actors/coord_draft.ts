/**
 * A turn's draft of the session's coordination records: an overlay of the
 * changes over the committed records, which it never mutates, with a journal
 * so that a command that throws is undone alone.
 *
 * @module
 */
import {
  type Coordination,
  type CoordRecord,
  RECORD_TYPES,
  type RecordOf,
  type RecordType,
} from "../src/coordination/model.ts";

/** One changed record: its new value, or null when removed. */
export interface CoordChange {
  type: RecordType;
  id: string;
  value: CoordRecord | null;
}

interface Undo {
  key: string;
  before: CoordChange | undefined;
}

const keyOf = (type: RecordType, id: string) => `${type}\u0000${id}`;

/** The records as a command sees and changes them. */
export class CoordDraft {
  readonly #base: Coordination;
  readonly #changes = new Map<string, CoordChange>();
  readonly #journal: Undo[] = [];

  constructor(base: Coordination) {
    this.#base = base;
  }

  /** The committed records the draft started from. */
  get base(): Coordination {
    return this.#base;
  }

  /** The record, as changed so far. */
  get<T extends RecordType>(type: T, id: string): RecordOf[T] | undefined {
    const c = this.#changes.get(keyOf(type, id));
    if (c !== undefined) return (c.value ?? undefined) as RecordOf[T] | undefined;
    return Object.hasOwn(this.#base[type], id) ? this.#base[type][id] as RecordOf[T] : undefined;
  }

  /** Every record of `type`, as changed so far, in no particular order. */
  values<T extends RecordType>(type: T): RecordOf[T][] {
    const out: RecordOf[T][] = [];
    for (const [id, r] of Object.entries(this.#base[type])) {
      const c = this.#changes.get(keyOf(type, id));
      if (c === undefined) out.push(r as RecordOf[T]);
      else if (c.value !== null) out.push(c.value as RecordOf[T]);
    }
    for (const c of this.#changes.values()) {
      if (c.type === type && c.value !== null && !Object.hasOwn(this.#base[type], c.id)) {
        out.push(c.value as RecordOf[T]);
      }
    }
    return out;
  }

  /** Adds or replaces a record (records are replaced whole, never mutated). */
  put<T extends RecordType>(type: T, record: RecordOf[T]): void {
    this.#set({ type, id: record.id, value: record });
  }

  /** Removes a record. */
  remove(type: RecordType, id: string): void {
    this.#set({ type, id, value: null });
  }

  #set(change: CoordChange): void {
    const key = keyOf(change.type, change.id);
    this.#journal.push({ key, before: this.#changes.get(key) });
    this.#changes.set(key, change);
  }

  /** A mark to {@linkcode rollback} to. */
  mark(): number {
    return this.#journal.length;
  }

  /** Undoes every change since `mark`. */
  rollback(mark: number): void {
    while (this.#journal.length > mark) {
      const { key, before } = this.#journal.pop()!;
      if (before === undefined) this.#changes.delete(key);
      else this.#changes.set(key, before);
    }
  }

  /** Whether anything changed. */
  get changed(): boolean {
    return this.#changes.size > 0;
  }

  /** The changes, one per record. */
  changes(): Iterable<CoordChange> {
    return this.#changes.values();
  }

  /** The records with the changes applied; types that did not change are shared with the base. */
  result(): Coordination {
    if (this.#changes.size === 0) return this.#base;
    const out = { ...this.#base };
    const copied = new Set<RecordType>();
    for (const c of this.#changes.values()) {
      if (!copied.has(c.type)) {
        copied.add(c.type);
        out[c.type] = { ...out[c.type] } as never;
      }
      const records = out[c.type] as Record<string, CoordRecord>;
      if (c.value === null) delete records[c.id];
      else records[c.id] = c.value;
    }
    return out;
  }
}

/** How many records `coord` holds, all types together. */
export function recordCount(coord: Coordination): number {
  let n = 0;
  for (const type of RECORD_TYPES) n += Object.keys(coord[type]).length;
  return n;
}
