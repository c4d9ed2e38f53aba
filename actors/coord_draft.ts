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
  type Task,
  type TaskStatus,
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

/**
 * The records as a command sees and changes them. Counts, the plan's status
 * counts and the ready tasks in claim order are derived from the committed
 * records once per draft (a batch) and kept current from the changes, so a
 * claim or a put costs what the batch changed, not what the session holds.
 */
export class CoordDraft {
  readonly #base: Coordination;
  readonly #changes = new Map<string, CoordChange>();
  readonly #journal: Undo[] = [];
  #baseCounts: Partial<Record<RecordType, number>> = {};
  #baseStatus: Map<TaskStatus, number> | undefined;
  #baseReady: Task[] | undefined;
  #baseDependants: Map<string, string[]> | undefined;

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

  /** How many records of `type` there are, as changed so far. */
  count(type: RecordType): number {
    const base = this.#baseCounts[type] ??= Object.keys(this.#base[type]).length;
    let n = base;
    for (const c of this.#changes.values()) {
      if (c.type !== type) continue;
      if (Object.hasOwn(this.#base[type], c.id)) n--;
      if (c.value !== null) n++;
    }
    return n;
  }

  /** How many tasks are in `status`, as changed so far. */
  tasksIn(status: TaskStatus): number {
    if (this.#baseStatus === undefined) {
      this.#baseStatus = new Map();
      for (const t of Object.values(this.#base.tasks)) {
        this.#baseStatus.set(t.status, (this.#baseStatus.get(t.status) ?? 0) + 1);
      }
    }
    let n = this.#baseStatus.get(status) ?? 0;
    for (const c of this.#changes.values()) {
      if (c.type !== "tasks") continue;
      if (Object.hasOwn(this.#base.tasks, c.id) && this.#base.tasks[c.id].status === status) n--;
      if (c.value !== null && (c.value as Task).status === status) n++;
    }
    return n;
  }

  /** The ready task added first (the next to claim), as changed so far. */
  oldestReady(): Task | undefined {
    this.#baseReady ??= Object.values(this.#base.tasks).filter((t) => t.status === "ready")
      .sort((a, b) => a.order - b.order);
    let best: Task | undefined;
    for (const t of this.#baseReady) {
      // A base task the batch changed is judged by its change, below.
      if (!this.#changes.has(keyOf("tasks", t.id))) {
        best = t;
        break;
      }
    }
    for (const c of this.#changes.values()) {
      const t = c.value as Task | null;
      if (
        c.type === "tasks" && t?.status === "ready" && (best === undefined || t.order < best.order)
      ) {
        best = t;
      }
    }
    return best;
  }

  /** The tasks that depend on task `id`, as changed so far. */
  dependants(id: string): Task[] {
    if (this.#baseDependants === undefined) {
      this.#baseDependants = new Map();
      for (const t of Object.values(this.#base.tasks)) {
        for (const d of t.deps) {
          const list = this.#baseDependants.get(d);
          if (list) list.push(t.id);
          else this.#baseDependants.set(d, [t.id]);
        }
      }
    }
    const ids = new Set(this.#baseDependants.get(id));
    for (const c of this.#changes.values()) {
      if (c.type === "tasks" && c.value !== null && (c.value as Task).deps.includes(id)) {
        ids.add(c.id);
      }
    }
    const out: Task[] = [];
    for (const tid of ids) {
      const t = this.get("tasks", tid);
      if (t?.deps.includes(id)) out.push(t);
    }
    return out.sort((a, b) => a.order - b.order);
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

  /** How many records changed. */
  get size(): number {
    return this.#changes.size;
  }

  /** The changes, one per record. */
  changes(): Iterable<CoordChange> {
    return this.#changes.values();
  }

  /**
   * Applies the changes to the base records in place and returns them: for
   * the actor, once the commit succeeded, so a batch costs what it changed.
   * The base must be the actor's own (never shared with a reader that
   * expects it to stay as it was; `Runtime.coordination` hands out copies).
   */
  commit(): Coordination {
    for (const c of this.#changes.values()) {
      const records = this.#base[c.type] as Record<string, CoordRecord>;
      if (c.value === null) delete records[c.id];
      else records[c.id] = c.value;
    }
    return this.#base;
  }

  /** How many records there are of every type, as changed so far. */
  total(): number {
    let n = 0;
    for (const type of RECORD_TYPES) n += this.count(type);
    return n;
  }

  /** The records with the changes applied, as a copy; types that did not change are shared with the base. */
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
