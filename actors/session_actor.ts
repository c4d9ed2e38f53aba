/**
 * The session actor: one mailbox, one turn at a time.
 *
 * Commands queued while a commit is in flight, or while the session waits
 * for the group committer to admit it, form the next batch. A batch
 * is applied command by command to a {@linkcode Turn} (a command that throws
 * is undone alone), turned into one commit unit (head, log or snapshot,
 * command ids, outbox) and handed to the group committer. Only when KV says
 * ok does the actor adopt the new state, ack and broadcast. On a lost
 * versionstamp check it reloads and re-applies the batch once, then answers
 * 409. Any other commit failure leaves the state as it was and answers 503.
 *
 * @module
 */
import type { Clock } from "../src/clock.ts";
import {
  ConflictError,
  DenizenError,
  SessionNotFoundError,
  UnavailableError,
} from "../src/errors.ts";
import type { SessionKind } from "./kind.ts";
import type { HotSession } from "../src/hot/layout.ts";
import type { HotTier } from "../src/hot/hot_tier.ts";
import { COMMAND_MEMORY, CommandMemory, type CommandRecord } from "../src/hot/command_memory.ts";
import { type Session, type SessionEvent, utf8Length } from "../src/session.ts";
import { CommitTimeoutError, type GroupCommitter } from "./group_commit.ts";
import { missedEvents } from "./head_watch.ts";
import type { HistoryStore } from "../src/history/history_store.ts";
import { headOf, sessionOf } from "../src/hot/commit_unit.ts";
import { Turn } from "./turn.ts";
import { emptyCoordination } from "../src/coordination/model.ts";

/** A command: validated at the boundary, applied inside the turn. */
export interface Command<R = unknown> {
  /** Client command id: a resent id returns the first result and is not applied again. */
  readonly id?: string;
  /** Changes the turn or throws a {@linkcode DenizenError}. Synchronous. */
  apply(turn: Turn): R;
}

/** The answer to a committed command. */
export interface Ack<R = unknown> {
  /** Seq of the command's own last event. */
  version: number;
  result: R;
  /** True when the id had been applied before and this is the remembered result. */
  duplicate?: boolean;
}

/** Receives committed events in seq order. */
export type Listener = (events: readonly SessionEvent[]) => void;

/** What every actor of a runtime shares. */
export interface ActorEnv {
  readonly hot: HotTier;
  readonly committer: GroupCommitter;
  readonly clock: Clock;
  readonly kinds: ReadonlyMap<string, SessionKind>;
  readonly history: HistoryStore;
  /** Most commands in one batch. */
  readonly batchMax: number;
  /**
   * Whether other processes may write the KV. If so, the heads of subscribed
   * sessions are watched, and a read of a loaded session asks KV whether its
   * head moved; if not, memory is the truth and a read touches no store.
   */
  readonly sharedKv: boolean;
  /** Called after every commit, with its events. */
  committed(events: readonly SessionEvent[]): void;
  /** Called after a commit that put a record on the scheduler's index, with its due time. */
  scheduled(dueMs: number): void;
}

/** Where an answer goes: the value once it is ready, or the error. */
export interface Reply<T> {
  /** Called with the answer. */
  resolve(value: T): void;
  /** Called with the error instead. */
  reject(error: unknown): void;
}

interface Pending extends Reply<Ack> {
  cmd: Command;
}

type Item = Pending | { task: () => Promise<void> };

type Settle = () => void;

/** A batch applied to a turn, not yet committed. */
interface Applied {
  turn: Turn;
  /** How to answer the commands that add nothing to the commit (resent ids, failures). */
  settles: Settle[];
  /** The commands the turn holds, with their answers. */
  accepted: { p: Pending; version: number; result: unknown }[];
  /** Command ids to remember. */
  records: CommandRecord[];
}

/**
 * The result of a command, from its events (first to last), for a resent id
 * whose result was too large to remember inline: an action's is in its
 * event; a coordination command's is the record its first event carries.
 */
function recallResult(events: readonly SessionEvent[]): unknown {
  const data = events[0]?.data as Record<string, unknown> | undefined;
  if (data === undefined) return undefined;
  if (events[0].type === "action") return data.result;
  if (events[0].type === "task.added") {
    const approval = events.find((e) => e.type === "approval.requested")?.data as
      | { approval?: unknown }
      | undefined;
    return approval?.approval === undefined
      ? { tasks: data.tasks }
      : { tasks: data.tasks, approval: approval.approval };
  }
  for (const key of ["timer", "approval", "task", "conflict"]) {
    if (key in data) return data[key];
  }
  return data.result;
}

/**
 * Coordination records one batch changes, after which the rest waits for the
 * next batch: each costs up to three KV mutations (the record, its old and
 * its new index key), and an atomic takes 1,000.
 */
const BATCH_RECORDS = 250;

/** Event bytes in one batch; with a 512 KiB snapshot this stays under KV's 800 KiB per atomic. */
const BATCH_EVENT_BYTES = 128 * 1024;

/** One live session. Create through the registry, never directly. */
export class SessionActor {
  readonly id: string;
  /** Clock time of the last use, for passivation. */
  lastUsed: number;
  /** The registry's count of uses at this actor's last one, for its least-recently-used cap. */
  recency = 0;
  readonly #env: ActorEnv;
  #loaded = false;
  #hot: HotSession | undefined;
  #stateBytes = 0;
  #commands: CommandMemory | undefined;
  #queue: Item[] = [];
  #running = false;
  #listeners: Set<Listener> | undefined;
  #unwatch: (() => void) | undefined;
  /** Set once the session's hot state is deleted or retired: the registry drops the actor. */
  gone = false;

  constructor(id: string, env: ActorEnv) {
    this.id = id;
    this.#env = env;
    this.lastUsed = env.clock.now();
  }

  /** True when nothing is queued, running or listening: the actor may be passivated. */
  get idle(): boolean {
    return !this.#running && this.#queue.length === 0 && !this.#listeners?.size;
  }

  /** Queues a command; resolves once it is durable. */
  submit<R>(cmd: Command<R>): Promise<Ack<R>> {
    return new Promise((resolve, reject) => this.post(cmd, { resolve, reject }));
  }

  /** Queues a command and answers through `reply`: {@linkcode submit} without the promise. */
  post<R>(cmd: Command<R>, reply: Reply<Ack<R>>): void {
    this.#enqueue({ cmd, resolve: reply.resolve as (a: Ack) => void, reject: reply.reject });
  }

  /** Runs `fn` between batches, alone. */
  exclusive<T>(fn: (hot: HotSession | undefined) => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#enqueue({
        task: async () => {
          try {
            await this.#ensureLoaded();
            resolve(await fn(this.#hot));
          } catch (error) {
            reject(error);
          }
        },
      });
    });
  }

  /** The committed session, or undefined when KV has none. Never a draft. */
  async read(): Promise<Session | undefined> {
    const hot = await this.readHot();
    return hot ? sessionOf(hot.head, hot.state) : undefined;
  }

  /** The committed hot session (head, state and coordination records), or undefined. */
  async readHot(): Promise<HotSession | undefined> {
    if (!this.#loaded) {
      await this.exclusive(() => Promise.resolve());
    } else if (!this.gone && this.#env.sharedKv) {
      // Another instance may have committed: one KV read tells.
      const vs = await this.#env.hot.headVersionstamp(this.id);
      const mine = () => vs !== null && vs <= (this.#hot?.versionstamp ?? "");
      if (!mine() && !(vs === null && this.#hot === undefined)) {
        await this.exclusive(() => mine() ? Promise.resolve() : this.#catchUp());
      }
    }
    this.lastUsed = this.#env.clock.now();
    return this.#hot;
  }

  /** Whether the remembered command ids are cached in memory. */
  get holdsCommandIds(): boolean {
    return this.#commands !== undefined;
  }

  /** Drops the cached command ids unless a batch is running; the next command with an id reloads them from KV. */
  trim(): void {
    if (!this.#running && this.#queue.length === 0) this.#commands = undefined;
  }

  /** Status and expiry of the committed head, without touching KV; undefined when not loaded. */
  get committed(): { status: Session["status"]; expiresAt: string } | undefined {
    return this.#hot?.head;
  }

  /**
   * Subscribes to committed events; returns the unsubscribe function. While
   * there are subscribers and other processes may write the KV, the head key
   * is watched, so their commits reach the subscribers too.
   */
  subscribe(listener: Listener): () => void {
    (this.#listeners ??= new Set()).add(listener);
    if (this.#env.sharedKv) {
      this.#unwatch ??= this.#env.hot.watchHead(this.id, (vs) => this.#foreign(vs));
    }
    return () => {
      this.#listeners?.delete(listener);
      if (this.#listeners?.size === 0) {
        this.#unwatch?.();
        this.#unwatch = undefined;
      }
    };
  }

  /** The head changed: if another writer did it, catch up and replay what it committed. */
  #foreign(versionstamp: string | null): void {
    const mine = () => versionstamp !== null && versionstamp <= (this.#hot?.versionstamp ?? "");
    if (!this.#loaded || versionstamp === null || mine()) return;
    void this.exclusive(() => mine() ? Promise.resolve() : this.#catchUp()).catch(() => {});
  }

  /** Reloads from KV after another writer committed, and replays its events to subscribers. */
  async #catchUp(): Promise<void> {
    const before = this.#hot;
    const latest = await this.#env.hot.load(this.id);
    const from = before?.head.version ?? 0;
    const events = latest && this.#listeners?.size && latest.head.version > from
      ? await missedEvents(this.#env.hot, this.#env.history, this.id, from, latest.head.version)
      : [];
    this.#adopt(latest);
    if (events.length > 0 && this.#listeners) { for (const l of this.#listeners) l(events); }
  }

  /** Marks the hot state as gone (deleted or retired); later commands answer 404. */
  markGone(): void {
    this.gone = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#hot = undefined;
    this.#loaded = true;
  }

  #enqueue(item: Item): void {
    this.lastUsed = this.#env.clock.now();
    this.#queue.push(item);
    if (!this.#running) this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const first = this.#queue[0];
        if ("task" in first) {
          this.#queue.shift();
          await first.task();
          continue;
        }
        const done = await this.#env.committer.admit();
        try {
          let n = 0;
          while (n < this.#env.batchMax && n < this.#queue.length && !("task" in this.#queue[n])) {
            n++;
          }
          await this.#process(this.#queue.splice(0, n) as Pending[]);
        } finally {
          done();
        }
      }
    } finally {
      this.#running = false;
      this.lastUsed = this.#env.clock.now();
    }
  }

  async #ensureLoaded(): Promise<void> {
    if (this.#loaded) return;
    this.#adopt(await this.#env.hot.load(this.id));
    this.#loaded = true;
  }

  /** Takes `hot`, freshly read from KV, as the committed session. */
  #adopt(hot: HotSession | undefined): void {
    this.#hot = hot;
    this.#stateBytes = hot ? utf8Length(JSON.stringify(hot.state)) : 0;
    this.#commands = undefined;
  }

  async #process(batch: Pending[]): Promise<void> {
    try {
      await this.#ensureLoaded();
      if (this.gone) throw new SessionNotFoundError(this.id);
      let settle = await this.#attempt(batch);
      if (settle === "conflict") {
        this.#loaded = false;
        await this.#ensureLoaded();
        settle = await this.#attempt(batch);
        if (settle === "conflict") {
          throw new ConflictError(`Session '${this.id}' was changed by another writer; retry`);
        }
      }
      settle();
    } catch (error) {
      const e = error instanceof DenizenError
        ? error
        : new UnavailableError(`Commit failed: ${(error as Error)?.message ?? error}`);
      for (const p of batch) p.reject(e);
    }
  }

  /** The result carried by this session's event `seq` (an action's, too large to remember inline). */
  async #resultOf(seq: number, version: number): Promise<unknown> {
    const env = this.#env;
    const events = await missedEvents(env.hot, env.history, this.id, seq - 1, version);
    return recallResult(events);
  }

  /** Applies and commits one batch. Returns how to settle it, or "conflict". */
  async #attempt(batch: Pending[]): Promise<Settle | "conflict"> {
    const applied = await this.#apply(batch);
    const settleAll = () => {
      for (const a of applied.accepted) a.p.resolve({ version: a.version, result: a.result });
      for (const s of applied.settles) s();
    };
    const { turn } = applied;
    if (turn.events.length === 0 && !turn.force) return settleAll;
    if (!(await this.#commit(turn, applied.records))) return "conflict";
    const events = turn.events;
    return () => {
      // Broadcast first: a socket then sends a command's events before its ack, so a client
      // that mirrors the state has applied them when the ack arrives.
      if (this.#listeners) { for (const l of this.#listeners) l(events); }
      settleAll();
      this.#env.committed(events);
    };
  }

  /**
   * Applies a batch to a new turn over the committed session, command by
   * command: a resent id is answered from memory, a command that throws is
   * undone alone, and what would pass one atomic's size goes back to the
   * mailbox. Nothing is committed.
   */
  async #apply(batch: Pending[]): Promise<Applied> {
    const env = this.#env;
    const base = this.#hot;
    if (batch.some((p) => p.cmd.id !== undefined)) {
      this.#commands ??= await env.hot.commandMemory(this.id, base?.head);
    }
    const now = env.clock.now();
    const head = base?.head ?? headOf(this.id, now);
    const turn = new Turn({
      head,
      state: base?.state ?? {},
      exists: base !== undefined,
      kind: base ? env.kinds.get(head.kind) : undefined,
      stateBytes: this.#stateBytes,
      now,
      coord: base?.coord ?? emptyCoordination(),
    });
    const applied: Applied = { turn, settles: [], accepted: [], records: [] };
    const inBatch = new Map<string, { version: number; result: unknown }>();
    let cmds = head.cmds;
    let eventBytes = 0;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      if (eventBytes > BATCH_EVENT_BYTES || turn.coord.size > BATCH_RECORDS) {
        // Keep one atomic under KV's size limit: the rest goes in the next batch.
        this.#queue.unshift(...batch.splice(i));
        break;
      }
      const id = p.cmd.id;
      const seen = id === undefined ? undefined : this.#commands!.get(id);
      if (seen) {
        const result = seen.ref === undefined
          ? seen.result
          : await this.#resultOf(seen.ref, seen.version);
        applied.settles.push(() => p.resolve({ version: seen.version, result, duplicate: true }));
        continue;
      }
      const twin = id === undefined ? undefined : inBatch.get(id);
      if (twin) {
        applied.settles.push(() => p.resolve({ ...twin, duplicate: true }));
        continue;
      }
      const saved = turn.mark();
      try {
        const result = p.cmd.apply(turn);
        if (result instanceof Promise) throw new TypeError("Commands must be synchronous");
        const entry = { version: turn.head.version, result };
        for (let e = saved.events; e < turn.events.length; e++) {
          eventBytes += turn.eventJson(e).length;
        }
        applied.accepted.push({ p, ...entry });
        if (id !== undefined) {
          inBatch.set(id, entry);
          const first = turn.events[saved.events]?.seq ?? entry.version;
          applied.records.push(
            CommandMemory.record(id, cmds++ % COMMAND_MEMORY, entry.version, result, first),
          );
        }
      } catch (error) {
        turn.rollback(saved);
        applied.settles.push(() => p.reject(error));
      }
    }
    turn.head = { ...turn.head, cmds };
    return applied;
  }

  /**
   * Commits a turn as one unit and adopts it as the committed session.
   * Returns false when the head's versionstamp check was lost.
   */
  async #commit(turn: Turn, records: CommandRecord[]): Promise<boolean> {
    const env = this.#env;
    const base = this.#hot;
    const built = await env.hot.buildUnit(base, turn, records, this.#commands);
    let outcome;
    try {
      outcome = await env.committer.commit(built.unit);
    } catch (error) {
      if (error instanceof CommitTimeoutError) {
        this.#loaded = false; // it may land late: the next batch reads the head again
        throw error; // and its blobs stay, for it may name them
      }
      await built.discard();
      throw error;
    }
    if (!outcome.ok) {
      await built.discard();
      return false;
    }
    this.#hot = {
      head: built.head,
      state: turn.state,
      coord: turn.coord.commit(),
      versionstamp: outcome.versionstamp,
    };
    this.#stateBytes = turn.stateBytes;
    this.#commands?.remember(records, built.head, built.pages);
    if (built.nextDue !== undefined) env.scheduled(built.nextDue);
    return true;
  }
}
