/**
 * The runtime: wires the stores, the actors, the drainer and the sweeper,
 * and offers every operation of the HTTP API as a typed method. Data flows
 * one way: method → registry → actor turn → KV commit (with outbox) → ack
 * and broadcast → drainer → SQL history.
 *
 * @module
 */
import type { Hono } from "hono";
import { GroupCommitter } from "./group_commit.ts";
import { ActorRegistry } from "./registry.ts";
import type { Ack, Command, Reply } from "./session_actor.ts";
import { type Clock, iso, systemClock } from "../src/clock.ts";
import {
  actionCommand,
  agentCommand,
  type By,
  checkpointCommand,
  createCommand,
  installCommand,
  lifecycleCommand,
  messageCommand,
  patchCommand,
  restoreCommand,
  resultCommand,
} from "./commands.ts";
import { archiveSession, removePartialArchives } from "../src/archive/archive_session.ts";
import type { ArchiveHost } from "../src/archive/archive_host.ts";
import { coordinationCommand, type CoordinationOps, dueCommand } from "./coord_commands.ts";
import {
  type Approval,
  type ApprovalInput,
  type ApprovalStatus,
  type ClaimInput,
  type Conflict,
  type ConflictInput,
  type Coordination,
  type DecisionInput,
  emptyCoordination,
  type ResolveInput,
  type Task,
  type TasksInput,
  type TaskStatus,
  type Timer,
  type TimerInput,
} from "../src/coordination/model.ts";
import { type Job, Scheduler } from "./scheduler.ts";
import { exportSession } from "../src/archive/export_session.ts";
import { importSession, recoverImports } from "../src/archive/import_session.ts";
import { OutboxDrainer } from "./drainer.ts";
import { parseDuration } from "../src/duration.ts";
import {
  DenizenError,
  NotFoundError,
  SessionNotFoundError,
  TransitionError,
  UnavailableError,
  ValidationError,
} from "../src/errors.ts";
import type {
  ApprovalPage,
  ApprovalQuery,
  Checkpoint,
  HistoryStore,
  ListPage,
  ListQuery,
  Message,
  ResultRow,
  RetentionRules,
  SessionRecord,
} from "../src/history/history_store.ts";
import { HotStore } from "../src/hot/hot_store.ts";
import { dueKeyOf, type HotTier } from "../src/hot/hot_tier.ts";
import { type IdGenerator, ulidGenerator } from "../src/ids.ts";
import {
  type AgentInput,
  agentInput,
  type CreateInput,
  createInput,
  type MessageInput,
  messageInput,
  parse,
  type PatchOperation,
  patchOps,
  type ResultInput,
  resultInput,
  type UpdateInput,
} from "../src/inputs.ts";
import { defaultKind, type SessionKind } from "./kind.ts";
import { Metrics } from "../src/metrics.ts";
import { openStores, type StoreOptions, type Stores } from "./open_stores.ts";
import {
  assertId,
  assertSize,
  LIMITS,
  type Origin,
  type Session,
  type SessionEvent,
  TERMINAL,
  type Transition,
  transition,
  utf8Length,
} from "../src/session.ts";

/**
 * Hono's app type under a local name. `deno doc --lint` flags any reference to
 * a type from an npm package as private (denoland/deno#27364).
 *
 * @internal
 */
type HonoApp = Hono;

/** Options of {@linkcode createRuntime}. */
export interface RuntimeOptions extends StoreOptions {
  /** Session kinds besides `default`. */
  // deno-lint-ignore no-explicit-any -- a kind of any state and actions
  kinds?: SessionKind<any, any>[];
  /** Injected time. Default the wall clock. */
  clock?: Clock;
  /** Injected id generator. Default ULID-like over `clock`. */
  ids?: IdGenerator;
  /** Idle time before an actor is passivated. Default 5 minutes. */
  idleMs?: number;
  /** Most live actors. Default 10,000. */
  maxActors?: number;
  /** Group commit across commands and sessions. Default true; false (one KV commit per command, `batchMax` 1) is the benchmark's baseline. */
  groupCommit?: boolean;
  /** How often the sweeper and passivation run, in ms; 0 turns them off. Default 30 s. */
  tickMs?: number;
  /**
   * How often the scheduler reads its index of due timers, deadlines and
   * leases, in ms; 0 only when asked ({@linkcode Runtime.runDue}). Default
   * 250, or 0 when `tickMs` is 0.
   */
  scheduleMs?: number;
  /**
   * Retention of seed 002, run by the scheduler every `everyMs` (default 1
   * hour): terminal sessions older than `olderThanDays` (30) are deleted,
   * keeping the `keepCompleted` (10) most recent completed ones. `false`
   * turns it off. Default on, and off for `memory: true`.
   */
  retention?: false | (Omit<RetentionRules, "now"> & { everyMs?: number });
  /** Extra KV `expireIn` beyond the TTL. Default 1 day. */
  graceMs?: number;
  /** Log entries between snapshots. Default 64. */
  snapshotEvery?: number;
  /** Most commands per batch. Default 256. */
  batchMax?: number;
  /** KV atomics in flight at once. Default 2. */
  commitsInFlight?: number;
  /**
   * How long a KV commit may take before its commands are answered 503
   * ("outcome unknown: resend with the same command id"). Default 10 s.
   */
  commitTimeoutMs?: number;
  /**
   * Sessions that may hold a batch between taking it and its commit; the
   * others wait, gathering commands, so that each commit carries more.
   * Default: as many as the atomics in flight can check, 100 each.
   */
  admission?: number;
}

/** Options that must be positive integers when given. */
const COUNTS = ["maxActors", "batchMax", "commitsInFlight", "admission"] as const;

/** Throws a `ValidationError` for a count option that is not a positive integer. */
function checkOptions(opts: RuntimeOptions): void {
  for (const name of COUNTS) {
    const v = opts[name];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new ValidationError(`Option '${name}' must be a positive integer`, { [name]: v });
    }
  }
}

/**
 * A running Denizen. Create with {@linkcode createRuntime}.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * const rt = await createRuntime({ memory: true });
 * const s = await rt.create("default", { state: { n: 1 } });
 * await rt.addMessage(s.id, { role: "user", content: "hello" });
 * await rt.pause(s.id);
 * console.log((await rt.get(s.id)).status); // "paused"
 * await rt.close();
 * ```
 */
export class Runtime {
  /** The injected clock. */
  readonly clock: Clock;
  /** The injected id generator, for sessions, messages and checkpoints. */
  readonly ids: IdGenerator;
  /** Registered session kinds by name, `default` included. */
  readonly kinds: ReadonlyMap<string, SessionKind>;
  /** The Hono app with every route: `Deno.serve(rt.app.fetch)`. */
  readonly app: HonoApp;
  readonly #stores: Stores;
  readonly #history: HistoryStore;
  readonly #metrics: Metrics;
  readonly #archive: ArchiveHost;
  readonly #registry: ActorRegistry;
  readonly #drainer: OutboxDrainer;
  readonly #hot: HotTier;
  readonly #scheduler: Scheduler;
  readonly #beforeClose: (() => Promise<void>)[] = [];
  #drained: Promise<void> | undefined;
  #closed = false;

  /**
   * Wires a runtime over opened `stores`, builds its `app`, and starts its
   * scheduler. Internal: use {@linkcode createRuntime}.
   *
   * @internal
   */
  constructor(stores: Stores, opts: RuntimeOptions, app: (rt: Runtime) => HonoApp) {
    this.#stores = stores;
    this.clock = opts.clock ?? systemClock;
    this.ids = opts.ids ?? ulidGenerator(this.clock);
    const kinds = new Map<string, SessionKind>([["default", defaultKind]]);
    for (const k of opts.kinds ?? []) kinds.set(k.kind, k as SessionKind);
    this.kinds = kinds;
    this.#history = stores.history;
    this.#metrics = new Metrics();
    this.#hot = new HotStore(stores.kv, stores.blobs, {
      graceMs: opts.graceMs ?? 86_400_000,
      snapshotEvery: opts.snapshotEvery ?? 64,
    });
    const grouped = opts.groupCommit ?? true;
    const committer = new GroupCommitter(this.#hot, {
      observer: this.#metrics,
      outbox: (values) => this.#drainer.committed(values),
      grouped,
      maxInFlight: opts.commitsInFlight,
      room: opts.admission,
      commitTimeoutMs: opts.commitTimeoutMs,
    });
    this.#drainer = new OutboxDrainer({
      hot: this.#hot,
      history: stores.history,
      clock: this.clock,
      retire: (id, version) => this.#retire(id, version),
      // Drained keys ride along with the group commits instead of taking the KV writer alone.
      deleteKeys: (drained) => committer.deleteLater(drained),
      onError: (e) => {
        this.#metrics.drainErrors++;
        console.error("drain failed:", e);
      },
    });
    this.#registry = new ActorRegistry({
      hot: this.#hot,
      committer,
      clock: this.clock,
      kinds,
      history: stores.history,
      batchMax: opts.batchMax ?? (grouped ? 256 : 1),
      sharedKv: !stores.soleWriter,
      committed: (events) => this.#drainer.notify(events.length),
      scheduled: (dueMs) => this.#scheduler.wake(dueMs),
    }, { idleMs: opts.idleMs, maxActors: opts.maxActors });
    this.#metrics.gauges = () => ({
      actors: this.#registry.size,
      actorsHoldingCommandIds: this.#registry.holdingCommandIds(),
      outboxPending: this.#drainer.pending,
      outboxLagMs: this.#drainer.lagMs(),
      commitWaiting: committer.waiting,
      ...processMemory(),
    });
    const tick = opts.tickMs ?? 30_000;
    const jobs: Job[] = [];
    if (tick > 0) jobs.push({ name: "expiry", everyMs: tick, run: () => this.tick() });
    jobs.push({ name: "metrics", everyMs: 15_000, run: () => this.#countScheduled() });
    const retention = opts.retention ?? (opts.memory ? false : {});
    if (retention !== false) {
      const { everyMs, ...rules } = retention;
      jobs.push({
        name: "retention",
        everyMs: everyMs ?? 3_600_000,
        run: () => this.cleanup(rules),
      });
    }
    this.#scheduler = new Scheduler({
      hot: this.#hot,
      clock: this.clock,
      fire: (key) => this.#fireDue(key),
      pollMs: opts.scheduleMs ?? (tick > 0 ? 250 : 0),
      jobs,
      onError: (what, e) => console.error(`scheduler: ${what} failed:`, e),
    });
    this.#archive = this.#archiveHost();
    internal.set(this, {
      stores,
      history: stores.history,
      metrics: this.#metrics,
      archive: this.#archive,
      hot: this.#hot,
      postPatch: (id, ops, opts, reply) => this.#postPatch(id, ops, opts, reply),
      coordinate: (id, op, input, by) => this.#coordinate(id, op, input, by),
      beforeClose: (fn) => void this.#beforeClose.push(fn),
    });
    this.app = app(this);
    this.#scheduler.start();
  }

  /** Live actors in memory. */
  get liveActors(): number {
    return this.#registry.size;
  }

  /** Creates a session of `kind`. */
  async create(kind = "default", input: Omit<CreateInput, "kind"> = {}): Promise<Session> {
    const opts = parse(createInput, { ...input, kind }, "session");
    return await this.#create(opts);
  }

  async #create(
    opts: CreateInput,
    origin?: Origin,
    coordination?: Coordination,
  ): Promise<Session> {
    const kind = this.kinds.get(opts.kind ?? "default");
    if (!kind) throw new NotFoundError(`Kind '${opts.kind}' not found`);
    const id = opts.id ?? this.ids();
    if (await this.#history.getSession(id)) {
      throw new TransitionError(`Session '${id}' already exists`, { id });
    }
    const ttl = {
      active: opts.ttl?.active !== undefined ? parseDuration(opts.ttl.active) : kind.ttl.active,
      paused: opts.ttl?.paused !== undefined ? parseDuration(opts.ttl.paused) : kind.ttl.paused,
    };
    await this.#submit(id, createCommand({ ...opts, id }, kind, ttl, origin, coordination));
    return await this.get(id);
  }

  /** The session, hot or cold. A session past `expiresAt` reads as expired. */
  async get(id: string): Promise<Session> {
    assertId(id);
    const actor = this.#registry.get(id);
    const s = await actor.read();
    if (s) {
      if (!TERMINAL.has(s.status) && this.clock.now() > Date.parse(s.expiresAt)) {
        void this.#expire(id).catch(() => {});
        return { ...s, status: "expired" };
      }
      if (!TERMINAL.has(s.status)) return s;
      // Terminal but not yet retired from KV: SQL has the full row (with the report) once drained.
      await this.#drainer.drainCommitted();
      const rec = await this.#history.getSession(id);
      return rec ? publicSession(rec, s.state) : s;
    }
    this.#registry.drop(id);
    const rec = await this.#history.getSession(id);
    if (!rec) throw new SessionNotFoundError(id);
    return publicSession(rec, {});
  }

  /** Lists sessions from the SQL index, newest `updatedAt` first. */
  async list(query: ListQuery = {}): Promise<ListPage> {
    await this.#drainer.drainCommitted();
    return await this.#history.listSessions(query);
  }

  /** Full-text search over name, tags, meta and messages. */
  search(q: string, query: Omit<ListQuery, "q"> = {}): Promise<ListPage> {
    return this.list({ ...query, q });
  }

  /** Applies an RFC 6902 patch atomically. */
  async patch(
    id: string,
    ops: PatchOperation[],
    opts: By & { ifVersion?: number } = {},
  ): Promise<{ version: number }> {
    const ack = await this.#submit(id, patchCommand(parse(patchOps, ops, "patch"), opts));
    return { version: ack.version };
  }

  /** See {@linkcode RuntimeInternals.postPatch}. */
  #postPatch(
    id: string,
    ops: PatchOperation[],
    opts: By & { ifVersion?: number },
    reply: Reply<{ version: number }>,
  ): void {
    try {
      const cmd = patchCommand(parse(patchOps, ops, "patch"), opts);
      this.#post(id, cmd, {
        resolve: (ack) => reply.resolve({ version: ack.version }),
        reject: reply.reject,
      });
    } catch (error) {
      reply.reject(error);
    }
  }

  /** Runs a kind's action. */
  async action(
    id: string,
    name: string,
    args: unknown = {},
    by: By = {},
  ): Promise<{ version: number; result: unknown; duplicate?: boolean }> {
    const ack = await this.#submit(id, actionCommand(name, args, by));
    return {
      version: ack.version,
      result: ack.result,
      ...(ack.duplicate ? { duplicate: true } : {}),
    };
  }

  /** active → paused, with a checkpoint. */
  pause(id: string): Promise<Session> {
    return this.#lifecycle(id, "pause", {});
  }

  /** paused → active. */
  resume(id: string): Promise<Session> {
    return this.#lifecycle(id, "resume", {});
  }

  /** active or paused → completed, with a final checkpoint; the session moves to SQL. */
  complete(id: string, report?: unknown): Promise<Session> {
    if (report !== undefined) {
      assertSize("Report", utf8Length(JSON.stringify(report)), LIMITS.message);
    }
    return this.#lifecycle(id, "complete", { report });
  }

  /** active or paused → failed, with a final checkpoint. */
  fail(id: string, error: string): Promise<Session> {
    if (typeof error !== "string" || error.length === 0 || error.length > 4096) {
      throw new ValidationError("Fail needs an error of 1 to 4096 characters");
    }
    return this.#lifecycle(id, "fail", { error });
  }

  async #lifecycle(
    id: string,
    t: "pause" | "resume" | "complete" | "fail",
    opts: { report?: unknown; error?: string },
  ): Promise<Session> {
    await this.#submit(id, lifecycleCommand(t, { ...opts, cpId: this.ids() }), t);
    return await this.get(id);
  }

  /** Marks an active or paused session expired if its `expiresAt` has passed. */
  async #expire(id: string): Promise<void> {
    await this.#submit(id, lifecycleCommand("expire", { cpId: this.ids() }));
  }

  /** Sets one agent's status and progress; the command is the named agent's own. */
  async setAgent(
    id: string,
    agent: string,
    input: AgentInput,
    by: Pick<By, "id"> = {},
  ): Promise<Session> {
    await this.updateAgent(id, agent, input, by);
    return await this.get(id);
  }

  /** Sets one agent's status and progress; resolves to the seq of its own event (WebSocket acks). */
  async updateAgent(
    id: string,
    agent: string,
    input: AgentInput,
    by: Pick<By, "id"> = {},
  ): Promise<{ version: number }> {
    const ack = await this.#submit(
      id,
      agentCommand(agent, parse(agentInput, input, "agent"), by.id),
    );
    return { version: ack.version };
  }

  /** Appends a message to the conversation. */
  async addMessage(
    id: string,
    input: MessageInput,
    by: By = {},
  ): Promise<{ version: number; id: string }> {
    const m = parse(messageInput, input, "message");
    const ack = await this.#submit(id, messageCommand({ ...m, id: m.id ?? this.ids() }, by));
    return { version: ack.version, id: ack.result.id };
  }

  /** Records an agent result; over 1 MiB it goes to the blob store (up to 64 MiB). */
  async addResult(
    id: string,
    input: ResultInput,
    by: By = {},
  ): Promise<{ version: number }> {
    assertId(id);
    const r = parse(resultInput, input, "result");
    const json = JSON.stringify(r.data ?? null);
    const bytes = utf8Length(json);
    assertSize("Result", bytes, LIMITS.result);
    let cmd;
    let blob: string | undefined;
    if (bytes > LIMITS.resultInline) {
      blob = `${id}/r-${this.ids()}`;
      await this.#stores.blobs.put(blob, new TextEncoder().encode(json));
      cmd = resultCommand({ ...r, data: undefined, blob, bytes }, by);
    } else {
      cmd = resultCommand({ ...r, data: r.data ?? null, bytes }, by);
    }
    // A blob that no committed event names (the commit failed, or a resent id was applied
    // before, with its own blob) goes at once.
    const drop = () =>
      blob === undefined ? undefined : this.#stores.blobs.delete(blob).catch(() => {});
    const ack = await this.#submit(id, cmd).catch(async (error) => {
      await drop();
      throw error;
    });
    if (ack.duplicate) await drop();
    return { version: ack.version };
  }

  /** Takes a checkpoint of the current state. */
  async checkpoint(id: string, label?: string): Promise<{ version: number; checkpoint: string }> {
    if (label !== undefined && (typeof label !== "string" || label.length > 128)) {
      throw new ValidationError("A checkpoint label is a string of at most 128 characters");
    }
    const ack = await this.#submit(id, checkpointCommand(this.ids(), label));
    return { version: ack.version, checkpoint: ack.result.checkpoint };
  }

  /** Checkpoints, newest first. */
  async checkpoints(id: string): Promise<Checkpoint[]> {
    await this.#exists(id);
    return await this.#history.checkpoints(id);
  }

  /** Replaces the state with a checkpoint's, as a new version with a `restored` event. */
  async restore(id: string, checkpointId: string): Promise<Session> {
    const cp = await this.#checkpoint(id, checkpointId);
    await this.#submit(id, restoreCommand(cp));
    return await this.get(id);
  }

  /** A new session from a checkpoint or from the current state; records its origin. */
  async fork(id: string, opts: { checkpoint?: string; id?: string } = {}): Promise<Session> {
    const source = await this.get(id);
    let state = source.state;
    let coordination = await this.coordination(id);
    let origin: Origin = { session: id, version: source.version };
    if (opts.checkpoint !== undefined) {
      const cp = await this.#checkpoint(id, opts.checkpoint);
      state = cp.state;
      coordination = cp.coordination ?? emptyCoordination();
      origin = { session: id, version: cp.version, checkpoint: cp.id };
    }
    const input = parse(createInput, {
      kind: source.kind,
      id: opts.id,
      name: source.name,
      tags: source.tags,
      meta: source.meta,
      state,
    }, "fork");
    return await this.#create(input, origin, coordination);
  }

  async #checkpoint(id: string, checkpointId: string): Promise<Checkpoint> {
    await this.#exists(id);
    const cp = await this.#history.checkpoint(id, checkpointId);
    if (!cp) throw new NotFoundError(`Checkpoint '${checkpointId}' not found in session '${id}'`);
    return cp;
  }

  /** Events with `seq > after`, ascending. */
  async events(id: string, opts: { after?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    await this.#exists(id);
    return await this.#history.events(id, opts);
  }

  /** Messages, paged backwards with `before`. */
  async messages(id: string, opts: { before?: number; limit?: number } = {}): Promise<Message[]> {
    await this.#exists(id);
    return await this.#history.messages(id, opts);
  }

  /** The last `n` messages and how many were left out. */
  async condensed(id: string, n: number): Promise<{ omitted: number; messages: Message[] }> {
    await this.#exists(id);
    const [messages, total] = await Promise.all([
      this.#history.messages(id, { limit: n }),
      this.#history.countMessages(id),
    ]);
    return { omitted: Math.max(0, total - messages.length), messages };
  }

  /** Agent results; `latest` keeps the newest per key. Blob results are read back. */
  async results(
    id: string,
    opts: { agent?: string; key?: string; latest?: boolean; after?: number; limit?: number } = {},
  ): Promise<ResultRow[]> {
    await this.#exists(id);
    const rows = await this.#history.results(id, opts);
    return await Promise.all(rows.map(async (r) => {
      if (r.blob === undefined) return r;
      const bytes = await this.#stores.blobs.get(r.blob);
      return bytes ? { ...r, data: JSON.parse(new TextDecoder().decode(bytes)) } : r;
    }));
  }

  // ---- coordination (SPEC §9) ------------------------------------------------------------

  /** See {@linkcode RuntimeInternals.coordinate}. */
  async #coordinate<O extends keyof CoordinationOps>(
    id: string,
    op: O,
    input: CoordinationOps[O]["input"],
    by: By = {},
  ): Promise<{ version: number; result: CoordinationOps[O]["result"] }> {
    const ack = await this.#submit(id, coordinationCommand(op, input, by));
    return { version: ack.version, result: ack.result as CoordinationOps[O]["result"] };
  }

  /** Schedules a durable timer: an action, a patch, or a reminder when due (§9.1). */
  async schedule(id: string, input: TimerInput, by: By = {}): Promise<Timer> {
    return (await this.#coordinate(id, "schedule", input, by)).result;
  }

  /** Pending timers, soonest first. */
  async timers(id: string): Promise<Timer[]> {
    const { timers } = await this.coordination(id);
    return Object.values(timers).sort((a, b) => a.due.localeCompare(b.due) || cmp(a.id, b.id));
  }

  /** Cancels a pending timer; 404 when unknown or already fired. */
  async cancelTimer(id: string, timerId: string, by: By = {}): Promise<void> {
    await this.#coordinate(id, "cancelTimer", { timer: timerId }, by);
  }

  /** Asks a person to choose before a deadline (§9.2). */
  async requestApproval(id: string, input: ApprovalInput, by: By = {}): Promise<Approval> {
    return (await this.#coordinate(id, "requestApproval", input, by)).result;
  }

  /** Records a decision: 400 for an option not offered, 409 when decided already or expired. */
  async decide(
    id: string,
    approvalId: string,
    input: DecisionInput,
    by: By = {},
  ): Promise<Approval> {
    return (await this.#coordinate(id, "decide", { ...input, approval: approvalId }, by)).result;
  }

  /** The session's approvals, oldest deadline first; `status` filters. */
  async approvals(id: string, opts: { status?: ApprovalStatus } = {}): Promise<Approval[]> {
    const { approvals } = await this.coordination(id);
    return Object.values(approvals)
      .filter((a) => opts.status === undefined || a.status === opts.status)
      .sort((a, b) => a.deadline.localeCompare(b.deadline) || cmp(a.id, b.id));
  }

  /** The approver's inbox across sessions: oldest deadline first, paged (from SQL). */
  async inbox(query: ApprovalQuery = {}): Promise<ApprovalPage> {
    await this.#drainer.drainCommitted();
    return await this.#history.approvals(query);
  }

  /** Adds tasks to the plan; with `approval`, they wait for its decision (§9.3). */
  async addTasks(
    id: string,
    input: TasksInput,
    by: By = {},
  ): Promise<{ tasks: Task[]; approval?: Approval }> {
    return (await this.#coordinate(id, "addTasks", input, by)).result;
  }

  /** The plan, in the order tasks were added; `status` filters. */
  async tasks(id: string, opts: { status?: TaskStatus } = {}): Promise<Task[]> {
    const { tasks } = await this.coordination(id);
    return Object.values(tasks)
      .filter((t) => opts.status === undefined || t.status === opts.status)
      .sort((a, b) => a.order - b.order);
  }

  /** Gives `input.agent` the oldest ready task (or the one named) with a lease; null when none is ready. */
  async claim(id: string, input: ClaimInput, by: By = {}): Promise<Task | null> {
    return (await this.#coordinate(id, "claim", input, by)).result;
  }

  /** Extends the holder's lease; 409 naming the holder for anyone else. */
  async heartbeat(
    id: string,
    taskId: string,
    input: { agent: string; lease?: string | number },
    by: By = {},
  ): Promise<Task> {
    return (await this.#coordinate(id, "heartbeat", { ...input, task: taskId }, by)).result;
  }

  /** Ends the holder's task as done; its dependants become ready. */
  async completeTask(
    id: string,
    taskId: string,
    input: { agent: string; result?: unknown },
    by: By = {},
  ): Promise<Task> {
    return (await this.#coordinate(id, "completeTask", { ...input, task: taskId }, by)).result;
  }

  /** Ends the holder's task as failed. */
  async failTask(
    id: string,
    taskId: string,
    input: { agent: string; error: string },
    by: By = {},
  ): Promise<Task> {
    return (await this.#coordinate(id, "failTask", { ...input, task: taskId }, by)).result;
  }

  /** Records a conflict between findings (§9.4). */
  async recordConflict(id: string, input: ConflictInput, by: By = {}): Promise<Conflict> {
    return (await this.#coordinate(id, "recordConflict", input, by)).result;
  }

  /** Resolves an open conflict; 409 when resolved already. */
  async resolveConflict(
    id: string,
    conflictId: string,
    input: ResolveInput,
    by: By = {},
  ): Promise<Conflict> {
    const r = await this.#coordinate(id, "resolveConflict", { ...input, conflict: conflictId }, by);
    return r.result;
  }

  /** The session's conflicts, in the order recorded; `resolved` filters. */
  async conflicts(id: string, opts: { resolved?: boolean } = {}): Promise<Conflict[]> {
    const { conflicts } = await this.coordination(id);
    return Object.values(conflicts)
      .filter((c) => opts.resolved === undefined || (c.status === "resolved") === opts.resolved)
      .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt) || cmp(a.id, b.id));
  }

  /** Every coordination record of the session: live from KV, or as it ended, from SQL. */
  async coordination(id: string): Promise<Coordination> {
    assertId(id);
    const hot = await this.#registry.get(id).readHot();
    // A copy of each type's map: the actor updates its own in place after each commit.
    if (hot && !TERMINAL.has(hot.head.status)) {
      const c = hot.coord;
      return {
        timers: { ...c.timers },
        approvals: { ...c.approvals },
        tasks: { ...c.tasks },
        conflicts: { ...c.conflicts },
      };
    }
    await this.#drainer.drainCommitted();
    const rec = await this.#history.getSession(id);
    if (!rec) {
      this.#registry.drop(id);
      throw new SessionNotFoundError(id);
    }
    return rec.coordination ?? hot?.coord ?? emptyCoordination();
  }

  /** Changes name, tags, meta (merged, `null` removes a key) or phase after create; searchable at once. */
  async update(id: string, input: UpdateInput, by: By = {}): Promise<Session> {
    await this.#coordinate(id, "update", input, by);
    return await this.get(id);
  }

  /** Subscribes to a session's committed events, handed over a commit at a time; returns the unsubscribe. */
  async subscribe(
    id: string,
    listener: (events: readonly SessionEvent[]) => void,
  ): Promise<() => void> {
    assertId(id);
    await this.get(id);
    return this.#registry.get(id).subscribe(listener);
  }

  /** Streams the session's archive of SPEC §6 (gzip'd tar); see `exportSession`. */
  export(id: string): Promise<ReadableStream<Uint8Array>> {
    return exportSession(this.#archive, id);
  }

  /** Imports an archive as a session of the archive's id; 409 if it exists. See `importSession`. */
  import(body: ReadableStream<Uint8Array>): Promise<Session> {
    return importSession(this.#archive, body);
  }

  /** completed, failed or expired → archived; writes the archive file. See `archiveSession`. */
  archive(id: string): Promise<Session> {
    return archiveSession(this.#archive, id);
  }

  /** Installs an imported active or paused session in KV at its own version (history in SQL). */
  async #install(session: Session, coordination: Coordination): Promise<void> {
    const kind = this.kinds.get(session.kind);
    if (!kind) throw new NotFoundError(`Kind '${session.kind}' not found`);
    await this.#submit(session.id, installCommand(session, kind, coordination));
  }

  /** Deletes a session everywhere: KV, SQL rows, blobs and archive file. */
  async delete(id: string): Promise<void> {
    assertId(id);
    // A session whose hot state cannot be read (a damaged KV value) can still be deleted.
    const session = await this.get(id).catch((e) => {
      if (e instanceof UnavailableError) return undefined;
      throw e;
    });
    const actor = this.#registry.get(id);
    await actor.exclusive(async (hot) => {
      await this.#hot.deleteSession(id, { loaded: hot });
      actor.markGone();
    }).catch(async (e) => {
      if (!(e instanceof UnavailableError)) throw e;
      await this.#hot.deleteSession(id); // its index keys, unknown, go when they come due
      actor.markGone();
    });
    this.#registry.drop(id);
    await this.#drainer.drainCommitted(); // its last events reach SQL now, not after the delete
    const blobKeys = await this.#history.deleteSession(id);
    await Promise.all(blobKeys.map((k) => this.#stores.blobs.delete(k)));
    await this.#stores.blobs.deletePrefix(`${id}/`);
    if (session?.archive) await Deno.remove(session.archive).catch(() => {});
  }

  /**
   * Applies the retention rules of seed 002; returns the deleted ids. With
   * `dryRun`, returns the ids it would delete and deletes nothing.
   */
  async cleanup(rules: Omit<RetentionRules, "now"> & { dryRun?: boolean } = {}): Promise<string[]> {
    const { dryRun, ...selection } = rules;
    await this.#drainer.drainCommitted();
    const ids = await this.#history.cleanupCandidates({ ...selection, now: iso(this.clock.now()) });
    if (dryRun) return ids;
    for (const id of ids) {
      await this.delete(id).catch((e) => {
        if (!(e instanceof SessionNotFoundError)) throw e; // deleted meanwhile
      });
    }
    return ids;
  }

  /**
   * Runs every timer, approval deadline and lease that is due by the clock
   * now, and waits until each is settled; returns how many index keys were
   * handled. The scheduler calls it every `scheduleMs`; tests with an
   * injected clock call it after moving the clock.
   */
  runDue(): Promise<number> {
    return this.#scheduler.runDue();
  }

  /** Counts the scheduler's index by record type and the pending approvals, for `/metrics`. */
  async #countScheduled(): Promise<void> {
    const { timers, approvals, tasks } = await this.#hot.countDue(1_000_000);
    await this.#drainer.drainCommitted();
    const pendingApprovals = await this.#history.countPendingApprovals();
    this.#metrics.scheduled = { timers, approvals, tasks, pendingApprovals };
  }

  /** Hands one key of the scheduler's index to its session's actor. */
  #fireDue(key: Deno.KvKey): Promise<void> {
    const due = dueKeyOf(key);
    return new Promise((resolve, reject) => {
      this.#post(due.session, dueCommand(key), {
        resolve: (ack) => {
          if (ack.result === "done") {
            this.#metrics.dueFired[due.type as "timers" | "approvals" | "tasks"]++;
            this.#metrics.dueLateness.observe(Math.max(0, this.clock.now() - due.due));
          }
          if (ack.result !== "inactive") return resolve();
          this.#hot.deleteDue(key).then(resolve, reject);
        },
        reject: (error) => {
          // A session that is gone or ended no longer has anything due.
          if (error instanceof DenizenError && (error.status === 404 || error.status === 409)) {
            this.#hot.deleteDue(key).then(resolve, reject);
          } else reject(error);
        },
      });
    });
  }

  /** Expires sessions past `expiresAt`, and passivates idle actors. Returns the expired ids. */
  async tick(): Promise<string[]> {
    this.#registry.passivateIdle();
    await this.#drainer.drainCommitted();
    const now = this.clock.now();
    const ids = new Set(await this.#history.expiredCandidates(iso(now), 1000));
    for (const actor of this.#registry.all()) ids.add(actor.id);
    const expired: string[] = [];
    for (const id of ids) {
      try {
        const live = this.#registry.peek(id)?.committed;
        const s = live ?? await this.#registry.get(id).read();
        if (s && !TERMINAL.has(s.status) && now > Date.parse(s.expiresAt)) {
          await this.#expire(id);
          expired.push(id);
        }
      } catch (error) {
        // One session that cannot be read or expired now does not stop the sweep of the others.
        if (!(error instanceof DenizenError)) throw error;
      }
    }
    return expired;
  }

  /** Drains the outbox into SQL. */
  flush(): Promise<void> {
    return this.#drainer.flush();
  }

  /**
   * Runs the `beforeClose` work once: the app's sockets take no new command,
   * answer those in flight and close with 4503, so clients reconnect. A
   * server calls it before it stops listening (Deno's `shutdown()` would
   * close the sockets with 1001 at once); {@linkcode close} calls it too.
   */
  drain(): Promise<void> {
    this.#drained ??= Promise.all(this.#beforeClose.map((fn) => fn().catch(() => {})))
      .then(() => {});
    return this.#drained;
  }

  /**
   * Drains, flushes and closes the stores. Safe to call twice. First
   * {@linkcode drain}; then every actor finishes its queue, the outbox
   * drains to SQL, and the stores close.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.drain();
    await this.#scheduler.stop();
    for (const actor of this.#registry.all()) {
      await actor.exclusive(() => Promise.resolve()).catch(() => {}); // an unreadable one too
    }
    await this.#drainer.flush();
    await this.#drainer.close();
    await this.#stores.close();
  }

  /** Sends `cmd` to the session's actor. A cold session answers 409 with its status (`t` names the transition asked for). */
  #submit<R>(id: string, cmd: Command<R>, t?: Transition): Promise<Ack<R>> {
    return new Promise((resolve, reject) => this.#post(id, cmd, { resolve, reject }, t));
  }

  /**
   * Queues `cmd` on session `id`'s actor. A session without hot state is
   * refused with its SQL status (see {@linkcode #notLive}). Throws for a
   * malformed id, before anything is queued.
   */
  #post<R>(id: string, cmd: Command<R>, reply: Reply<Ack<R>>, t?: Transition): void {
    assertId(id);
    this.#registry.get(id).post(cmd, {
      resolve: reply.resolve,
      reject: (error) => {
        if (!(error instanceof SessionNotFoundError)) return reply.reject(error);
        this.#notLive(id, error, t).catch(reply.reject);
      },
    });
  }

  /** A session has no hot state: throws its SQL status as a 409 (or the lifecycle table's), else `error`. */
  async #notLive(id: string, error: SessionNotFoundError, t?: Transition): Promise<never> {
    this.#registry.drop(id);
    const rec = await this.#history.getSession(id);
    if (rec) {
      if (t) transition(id, rec.status, t); // throws the lifecycle table's 409
      throw new TransitionError(`Session '${id}' is ${rec.status}`, { id, status: rec.status });
    }
    throw error;
  }

  /** 404 unless the session exists; then drains what was committed so far, so SQL holds all of its history. */
  async #exists(id: string): Promise<void> {
    await this.get(id);
    await this.#drainer.drainCommitted();
  }

  /** What the archive code uses of this runtime (see `ArchiveHost`). */
  #archiveHost(): ArchiveHost {
    const kinds = this.kinds;
    const hot = this.#hot;
    return {
      history: this.#history,
      blobs: this.#stores.blobs,
      archiveDir: this.#stores.archiveDir,
      clock: this.clock,
      kind(name) {
        const kind = kinds.get(name);
        if (kind === undefined) return undefined;
        return { accepts: (state) => kind.freeForm || kind.state.safeParse(state).success };
      },
      get: (id) => this.get(id),
      coordination: (id) => this.coordination(id),
      flushSession: (id) => this.#exists(id),
      install: (session, coordination) => this.#install(session, coordination),
      soleWriter: this.#stores.soleWriter,
      imports: {
        mark: (id, at) => hot.markImport(id, at),
        unmark: (id) => hot.unmarkImport(id),
        marks: () => hot.importMarks(),
        live: async (id) => (await hot.headVersionstamp(id)) !== null,
      },
    };
  }

  /** Removes a terminal session's hot keys once SQL has all of it. */
  async #retire(id: string, version: number): Promise<void> {
    const actor = this.#registry.get(id);
    await actor.exclusive(async (hot) => {
      if (!hot || hot.head.version !== version || !TERMINAL.has(hot.head.status)) return;
      const deleted = await this.#hot.deleteSession(id, { versionstamp: hot.versionstamp });
      if (deleted) actor.markGone(); // else another writer moved the head: its own drain retires it
    });
    this.#registry.drop(id);
  }
}

/**
 * What the routes, the archive code and the tests reach inside a runtime,
 * through {@linkcode internals}. Not exported by `mod.ts`.
 */
export interface RuntimeInternals {
  /** The opened stores. */
  readonly stores: Stores;
  /** The SQL history store (`stores.history`). */
  readonly history: HistoryStore;
  /** Counters and histograms served at `GET /metrics`. */
  readonly metrics: Metrics;
  /** What archive, export and import use of the runtime. */
  readonly archive: ArchiveHost;
  /** The hot tier (KV), for `/healthz`. */
  readonly hot: HotTier;
  /**
   * `rt.patch`, answered through `reply` instead of a promise: for a caller
   * that keeps many patches in flight (the WebSocket route), each holds no
   * promise chain while it waits. Never throws; a bad id or bad ops go to
   * `reply.reject` before anything is queued.
   */
  postPatch(
    id: string,
    ops: PatchOperation[],
    opts: By & { ifVersion?: number },
    reply: Reply<{ version: number }>,
  ): void;
  /**
   * Runs one coordination command (see {@linkcode CoordinationOps}) and
   * answers with its version (the seq of its own last event, or of the
   * first application for a resent id) and its result. The typed methods
   * return the result alone; the WebSocket route acks with both.
   */
  coordinate<O extends keyof CoordinationOps>(
    id: string,
    op: O,
    input: CoordinationOps[O]["input"],
    by?: By,
  ): Promise<{ version: number; result: CoordinationOps[O]["result"] }>;
  /**
   * Registers work to run first when the runtime closes, such as draining
   * the app's WebSockets (their acks go out before the actors stop).
   */
  beforeClose(fn: () => Promise<void>): void;
}

const internal = new WeakMap<Runtime, RuntimeInternals>();

/**
 * The internals of `rt`: its stores, metrics, archive host and the calls
 * only the routes make. For the routes, the archive code and the tests.
 */
export function internals(rt: Runtime): RuntimeInternals {
  const found = internal.get(rt);
  if (found === undefined) throw new TypeError("Not a runtime");
  return found;
}

/** A session as users see it, from its SQL row: `state` (or `fallback`) without the row's internals. */
function publicSession(rec: SessionRecord, fallback: Record<string, unknown>): Session {
  const { coordination: _c, searchText: _s, state, ...session } = rec;
  return { ...session, state: state ?? fallback };
}

/** The process's resident set and V8 heap in bytes, for `/metrics` (empty where Deno cannot tell). */
function processMemory(): Record<string, number> {
  try {
    const m = Deno.memoryUsage();
    return { processRssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal };
  } catch {
    return {};
  }
}

/** Orders ids as strings, for stable listings. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Opens the stores and starts a runtime whose `app` is `app(rt)`. What a
 * crash left is dealt with first: undrained outbox events are drained,
 * imports cut short are undone or kept whole, and partial archive files
 * are removed.
 */
export async function openRuntime(
  opts: RuntimeOptions,
  app: (rt: Runtime) => HonoApp,
): Promise<Runtime> {
  checkOptions(opts);
  const stores = await openStores(opts);
  const rt = new Runtime(stores, opts, app);
  await rt.flush();
  await recoverImports(internals(rt).archive);
  await removePartialArchives(internals(rt).archive);
  return rt;
}
