/**
 * A turn: the draft one command works on. It changes a copy of the head and
 * an immutable state (through immer, which records JSON Patch ops, or by a
 * patch command's own ops), and
 * collects the events the command emits, each with the next seq.
 *
 * @module
 */
import { enablePatches, type Patch, produceWithPatches, setAutoFreeze } from "immer";
import type { Operation } from "fast-json-patch";
import { iso } from "../src/clock.ts";
import { applyShared } from "../src/json_patch.ts";
import { TooLargeError, ValidationError } from "../src/errors.ts";
import type { SessionKind } from "./kind.ts";
import type { Coordination } from "../src/coordination/model.ts";
import { CoordDraft } from "./coord_draft.ts";
import type { Head } from "../src/hot/layout.ts";
import {
  assertSize,
  eventJson,
  LIMITS,
  meanProgress,
  type SessionEvent,
  utf8Length,
} from "../src/session.ts";

enablePatches();
setAutoFreeze(false);

/** A turn's fields at one moment; events and log are kept as their lengths. */
export interface TurnMark {
  head: Head;
  state: Record<string, unknown>;
  exists: boolean;
  kind: SessionKind | undefined;
  stateBytes: number;
  snapshot: boolean;
  terminal: boolean;
  force: boolean;
  report: unknown;
  events: number;
  log: number;
  coord: number;
  stale: number;
}

/** What one command may read and change. */
export class Turn {
  /** The working head; commands replace fields, never mutate nested values in place. */
  head: Head;
  /** The working state; replaced, never mutated. */
  state: Record<string, unknown>;
  /** Whether the session exists (false only before `created`). */
  exists: boolean;
  /** The session's kind; set by `create` on a new session. */
  kind: SessionKind | undefined;
  /** Events emitted so far in this batch. */
  readonly events: SessionEvent[];
  /** State ops of this batch for the log: each the JSON of `[seq, ops]`, as the head's tail keeps them. */
  readonly log: string[];
  /** Upper bound of the state's JSON size. */
  stateBytes: number;
  /** Set when the log cannot carry this batch's ops: the commit writes a snapshot. */
  snapshot: boolean;
  /** Set when the session reached a terminal status: its hot state leaves KV after the drain. */
  terminal: boolean;
  /** Commit even without events (an import installs a session whose history is already in SQL). */
  force = false;
  /** The final report, carried to SQL with a terminal commit. */
  report: unknown;
  /** The coordination records, as changed so far. */
  readonly coord: CoordDraft;
  /** Keys of the scheduler's index that name nothing due any more: the commit deletes them. */
  readonly stale: Deno.KvKey[] = [];
  /** The injected clock's time. */
  readonly now: number;
  /** `now` as ISO-8601, the `at` of every event of the turn. */
  readonly at: string;

  constructor(init: {
    head: Head;
    state: Record<string, unknown>;
    exists: boolean;
    kind: SessionKind | undefined;
    stateBytes: number;
    now: number;
    coord: Coordination;
  }) {
    this.head = init.head;
    this.state = init.state;
    this.exists = init.exists;
    this.kind = init.kind;
    this.stateBytes = init.stateBytes;
    this.now = init.now;
    this.at = iso(init.now);
    this.events = [];
    this.log = [];
    this.snapshot = false;
    this.terminal = false;
    this.report = undefined;
    this.coord = new CoordDraft(init.coord);
  }

  /** Where the turn stands now, for {@linkcode rollback} if the next command throws. */
  mark(): TurnMark {
    return {
      head: this.head,
      state: this.state,
      exists: this.exists,
      kind: this.kind,
      stateBytes: this.stateBytes,
      snapshot: this.snapshot,
      terminal: this.terminal,
      force: this.force,
      report: this.report,
      events: this.events.length,
      log: this.log.length,
      coord: this.coord.mark(),
      stale: this.stale.length,
    };
  }

  /** Undoes everything since `m`: the command that threw leaves no trace. */
  rollback(m: TurnMark): void {
    this.head = m.head;
    this.state = m.state;
    this.exists = m.exists;
    this.kind = m.kind;
    this.stateBytes = m.stateBytes;
    this.snapshot = m.snapshot;
    this.terminal = m.terminal;
    this.force = m.force;
    this.report = m.report;
    this.events.length = m.events;
    this.log.length = m.log;
    this.coord.rollback(m.coord);
    this.stale.length = m.stale;
  }

  /** The JSON of event `i`, made once: the batch's size budget, the outbox and the sockets need it. */
  eventJson(i: number): string {
    return eventJson(this.events[i]);
  }

  /** The session's id. */
  get id(): string {
    return this.head.id;
  }

  /** Appends an event with the next seq. */
  emit(type: string, data: unknown, agent?: string): SessionEvent {
    const seq = this.head.version + 1;
    const event: SessionEvent = { sessionId: this.head.id, seq, type, data, at: this.at };
    if (agent !== undefined) event.agent = agent;
    this.head = { ...this.head, version: seq, updatedAt: event.at };
    this.events.push(event);
    return event;
  }

  /**
   * Runs `recipe` on a draft of the state and returns the JSON Patch ops it
   * made. The caller puts the ops in the event it emits next; `logAt` is that
   * event's seq.
   */
  mutate(recipe: (draft: Record<string, unknown>) => void): Operation[] {
    const [next, patches] = produceWithPatches(this.state, recipe);
    const ops = patches.map(toOperation);
    return ops.length > 0 ? this.#setState(next, ops) : ops;
  }

  /**
   * Applies a patch command's ops (none on the root) and returns the ops that
   * changed the state, to record: the ops themselves, less `test`.
   */
  patch(ops: Operation[]): Operation[] {
    const next = applyShared(this.state, ops);
    const changes = ops.filter((op) => op.op !== "test");
    return changes.length > 0 ? this.#setState(next, changes) : changes;
  }

  /** Replaces the whole state (restore, create). */
  replace(next: Record<string, unknown>): Operation[] {
    const ops: Operation[] = [{ op: "replace", path: "", value: next }];
    this.stateBytes = Infinity; // measured exactly below
    const recorded = this.#setState(next, ops);
    this.snapshot = true;
    return recorded;
  }

  /** Takes `next` as the state, changed by `ops`; returns the ops recorded (defaults included). */
  #setState(next: Record<string, unknown>, ops: Operation[]): Operation[] {
    const kind = this.kind!;
    if (!kind.freeForm) {
      const parsed = kind.state.safeParse(next);
      if (!parsed.success) {
        throw new ValidationError(
          `State does not match kind '${kind.kind}'`,
          parsed.error.issues,
        );
      }
      // A top-level field the change removed and the schema fills with its default comes back
      // with the change, so that actions see the state their schema promises.
      const filled = defaults(next, parsed.data as Record<string, unknown>);
      if (filled.length > 0) {
        next = applyShared(next, filled);
        ops = [...ops, ...filled];
      }
    }
    // One stringify gives the log item and the size of the ops (with a few characters of framing).
    const item = JSON.stringify([this.head.version + 1, ops]);
    const opsBytes = utf8Length(item);
    this.stateBytes += opsBytes;
    if (this.stateBytes > LIMITS.state) {
      this.stateBytes = utf8Length(JSON.stringify(next));
      assertSize("State", this.stateBytes, LIMITS.state);
    }
    this.state = next;
    // The op log takes ops up to one KV value; larger changes go out as a snapshot.
    if (opsBytes > 16 * 1024) this.snapshot = true;
    this.log.push(item);
    this.#refreshProgress();
    return ops;
  }

  /** Sets an agent's entry and recomputes progress. */
  setAgent(name: string, entry: Head["agents"][string]): void {
    const agents = { ...this.head.agents, [name]: entry };
    if (Object.keys(agents).length > LIMITS.agents) {
      throw new TooLargeError(`A session has at most ${LIMITS.agents} agents`);
    }
    this.head = { ...this.head, agents };
    this.#refreshProgress();
  }

  /** Recomputes progress after the plan changed. */
  planChanged(): void {
    this.#refreshProgress();
  }

  #refreshProgress(): void {
    const kind = this.kind;
    const progress = kind?.progress
      ? kind.progress(this.state, this.head.agents)
      : planProgress(this.coord) ?? meanProgress(this.head.agents);
    if (!Number.isFinite(progress)) return;
    const clamped = Math.min(1, Math.max(0, progress));
    if (clamped !== this.head.progress) this.head = { ...this.head, progress: clamped };
  }
}

/** Done ÷ total while the plan has tasks (SPEC §9.3); undefined without a plan. */
function planProgress(coord: CoordDraft): number | undefined {
  const total = coord.count("tasks");
  return total === 0 ? undefined : coord.tasksIn("done") / total;
}

function toOperation(p: Patch): Operation {
  const path = p.path.map((s) => "/" + String(s).replaceAll("~", "~0").replaceAll("/", "~1"))
    .join("");
  if (p.op === "remove") return { op: "remove", path };
  return { op: p.op, path, value: p.value } as Operation;
}

/** `add` ops for the top-level fields that `parsed` (a schema's output) has and `input` lacks. */
function defaults(input: Record<string, unknown>, parsed: Record<string, unknown>): Operation[] {
  const ops: Operation[] = [];
  if (typeof parsed !== "object" || parsed === null) return ops;
  for (const key of Object.keys(parsed)) {
    if (!Object.hasOwn(input, key) && parsed[key] !== undefined) {
      ops.push({
        op: "add",
        path: `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`,
        value: parsed[key],
      });
    }
  }
  return ops;
}
