/**
 * The Denizen agent client, for Deno, the browser and Node: web-standard
 * APIs only (WebSocket, setTimeout, crypto.randomUUID).
 *
 * It keeps a mirror of the session's state (the welcome's snapshot, then
 * every event's JSON Patch ops) and of its coordination records (timers,
 * approvals, tasks, conflicts of SPEC §9, from the welcome and the events
 * that carry them), reconnects with exponential backoff and jitter, resumes
 * with `?since=<last seq>`, and resends unacknowledged commands with their
 * ids, which the server dedupes.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@denizen/denizen/client";
 *
 * const client = await connect("ws://127.0.0.1:8000/v1/sessions/abc/ws", { agent: "researcher" });
 * client.on("event", (e) => console.log(e.seq, e.type));
 * await client.patch([{ op: "add", path: "/notes", value: [] }]);
 * console.log(client.state, client.version);
 * await client.close();
 * ```
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import type { ServerFrame, WelcomeFrame } from "./routes/ws_frames.ts";
import type {
  Approval,
  ApprovalStatus,
  Conflict,
  Coordination,
  Finding,
  Severity,
  Task,
  TaskStatus,
  Timer,
} from "./src/coordination/model.ts";
import type { Duration } from "./src/duration.ts";
import type { PatchOperation, UpdateInput } from "./src/inputs.ts";
import type {
  ActionArgs,
  ActionContext,
  ActionDef,
  ResultView,
  SessionKind,
} from "./actors/kind.ts";
import type { AgentState, Origin, Session, Status, Ttl } from "./src/session.ts";
import { packMessages, utf8Length } from "./src/batch_message.ts";

export type {
  ActionArgs,
  ActionContext,
  ActionDef,
  AgentState,
  Approval,
  ApprovalStatus,
  Conflict,
  Coordination,
  Duration,
  Finding,
  Origin,
  PatchOperation,
  ResultView,
  Session,
  SessionKind,
  Severity,
  Status,
  Task,
  TaskStatus,
  Timer,
  Ttl,
  UpdateInput,
  WelcomeFrame,
};

/** Most frames in one batch message, the server's limit too. */
export { BATCH_MAX } from "./src/batch_message.ts";

/** Timers, injectable so backoff is tested without sleeping. */
export interface Timers {
  /** Calls `fn` after `ms`; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending call; ignores unknown handles. */
  clearTimeout(handle: unknown): void;
}

/** Options of {@linkcode DenizenClient} and {@linkcode connect}. */
export interface ClientOptions {
  /** Bearer token (server or session token), sent as the subprotocol `bearer.<token>`. */
  token?: string;
  /** Agent name, sent as `?agent=`; a session token may name it instead. */
  agent?: string;
  /** First reconnect delay. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest reconnect delay. Default 30 s. */
  maxDelayMs?: number;
  /** Failed attempts in a row before giving up. Default Infinity. */
  maxAttempts?: number;
  /** Silence from the server after which the connection is deemed dead and replaced; 0 never. Default 150 s. */
  staleMs?: number;
  /** Random numbers in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Default the global timers. */
  timers?: Timers;
  /** Current time in ms, for stale detection. Default `Date.now`. */
  now?: () => number;
  /**
   * Commands sent and not yet acknowledged at any time; later ones wait their
   * turn. Keeps resends under the server's rate and dedupe window (1,000 ids).
   * Default 256.
   */
  window?: number;
  /**
   * Speak the batch extension of the protocol (`?batch=1`): commands queued
   * in the same tick go out as one message, and the server sends the frames
   * that are ready together as one. Fewer, larger messages; the same frames,
   * in the same order. Default true.
   */
  batch?: boolean;
  /** Command ids. Default `crypto.randomUUID`. */
  newId?: () => string;
  /** The WebSocket class. Default the global one. */
  WebSocket?: new (url: string, protocols?: string[]) => WebSocket;
}

/** A command's acknowledgement: `version` is the seq of its own last event. */
export interface Ack<R = unknown> {
  /** Seq of the command's own last event (of the first application, for a resent id). */
  version: number;
  /** What the command returned, when it returns something. */
  result?: R;
}

/** A committed change, as received. */
export interface ClientEvent {
  /** Per-session sequence number, from 1, with no gap. */
  seq: number;
  /** `created`, `action`, `patch`, `agent`, `message`, `result`, a kind's own type, … */
  type: string;
  /** The agent whose command made the change. */
  agent?: string;
  /** The payload; state changes carry JSON Patch `ops`. */
  data: unknown;
  /** Commit time, ISO-8601 UTC. */
  at: string;
}

/** What listeners of {@linkcode DenizenClient.on} receive. */
export interface ClientEvents {
  /** Every committed change, in seq order, once each. */
  event: ClientEvent;
  /** A (re)connection was welcomed; the mirror is current as of `seq`. */
  welcome: WelcomeFrame;
  /** Agents connected to the session. */
  presence: readonly string[];
  /** An error the server sent that answers no pending command. */
  error: DenizenClientError;
  /** The socket closed; the client reconnects unless it was closed or gave up. */
  close: { code: number; reason: string };
}

/** An error answer from the server (`code` as in SPEC §4), or a local one (`closed`, `unavailable`). */
export class DenizenClientError extends Error {
  /** Stable machine-readable code, e.g. `precondition_failed`. */
  readonly code: string;
  /** An error with `code` and a message that is safe to show. */
  constructor(code: string, message: string) {
    super(message);
    this.name = "DenizenClientError";
    this.code = code;
  }
}

/** An approval to request (SPEC §9.2); the session gives it a fresh id. */
export interface ApprovalRequest {
  /** What the person is asked. */
  prompt: string;
  /** The options offered. Default `["approve", "reject"]`. */
  options?: string[];
  /** A duration from now (`"30m"`, or ms) or an ISO-8601 time. */
  deadline: string | number;
  /** The option taken when the deadline passes; without it the approval expires. */
  onDeadline?: string;
  /** Free-form context for the person. */
  data?: unknown;
}

/**
 * A durable timer to schedule (SPEC §9.1): exactly one of `in` and `at`.
 * When due it runs `action` with `args`, or applies `patch`, or with
 * neither only records `timer.fired` with `data`.
 */
export interface TimerRequest {
  /** A duration from now: `"10m"`, or ms. */
  in?: string | number;
  /** An ISO-8601 time or epoch ms. */
  at?: string | number;
  /** The kind's action to run. */
  action?: string;
  /** The action's arguments. */
  args?: unknown;
  /** A JSON Patch to apply instead of an action. */
  patch?: PatchOperation[];
  /** Payload of a bare reminder's `timer.fired` event. */
  data?: unknown;
}

/** Findings that contradict each other, to record (SPEC §9.4); the session gives it a fresh id. */
export interface ConflictRequest {
  /** What the findings are about. */
  entity: string;
  /** What kind of contradiction. */
  type: string;
  /** Two to 32 findings. */
  findings: Finding[];
  /** How much it matters. */
  severity: Severity;
  /** How it should be resolved, free-form. */
  strategy?: string;
}

/** The state type of kind `K`. */
export type StateOf<K> = K extends SessionKind<infer S, infer _A> ? S : Record<string, unknown>;

/** Action names of kind `K`. */
export type ActionName<K> = keyof ActionArgs<K> & string;

/** What action `N` of kind `K` returns. */
export type ActionResult<K, N> = K extends SessionKind<infer _S, infer Acts>
  ? N extends keyof Acts ? ReturnType<Acts[N]["run"]> : unknown
  : unknown;

interface Pending {
  text: string;
  /** The text's UTF-8 length. */
  bytes: number;
  resolve(ack: Ack): void;
  reject(error: DenizenClientError): void;
}

/** Close codes the client uses, and the server's "session gone". */
const GONE = 4004;
const STALE = 4000;
const GAP = 4009;

/**
 * A live connection to one session. `K` is the session kind, for typed
 * actions and state.
 *
 * @example
 * ```ts ignore
 * import { DenizenClient } from "@denizen/denizen/client";
 * import type { research } from "./kinds.ts";
 *
 * const client = new DenizenClient<typeof research>(url, { agent: "bot", token });
 * await client.ready();
 * const ack = await client.action<"addFinding">("addFinding", { text: "founded 1999" });
 * console.log(ack.result?.count, client.state.findings);
 * ```
 */
export class DenizenClient<K = SessionKind> {
  readonly #url: URL;
  readonly #opts: ClientOptions;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  /** Ids of pending commands not yet sent on the current connection, in order, from `#head`. */
  #unsent: string[] = [];
  #head = 0;
  #inFlight = 0;
  #pumpQueued = false;
  readonly #listeners = new Map<keyof ClientEvents, Set<(value: never) => void>>();
  #waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  #ws: WebSocket | undefined;
  #welcomed = false;
  #closed: DenizenClientError | undefined;
  #attempts = 0;
  #retry: unknown;
  #stale: unknown;
  #lastRx = 0;
  #state: Record<string, unknown> = {};
  #version = 0;
  #conn: string | undefined;
  #presence: readonly string[] = [];
  #coordination: Coordination = noRecords();
  readonly #decisions = new Set<DecisionWaiter>();

  /** Connects to `url` (`ws:`, `wss:`, `http:` or `https:`, the session's `/ws` route) at once. */
  constructor(url: string | URL, opts: ClientOptions = {}) {
    this.#url = new URL(url);
    this.#url.protocol = this.#url.protocol.replace(/^http/, "ws");
    this.#opts = opts;
    this.#timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as number),
    };
    this.#now = opts.now ?? Date.now;
    this.#open();
  }

  /** The mirrored state, as of {@linkcode DenizenClient.version}. */
  get state(): StateOf<K> {
    return this.#state as StateOf<K>;
  }

  /** Seq of the last event applied to the mirror. */
  get version(): number {
    return this.#version;
  }

  /** The current connection's id, from its welcome. */
  get conn(): string | undefined {
    return this.#conn;
  }

  /** Agents connected to the session. */
  get presence(): readonly string[] {
    return this.#presence;
  }

  /**
   * The mirrored coordination records (timers, approvals, tasks, conflicts)
   * as of {@linkcode DenizenClient.version}, by id. Read it, don't change it:
   * records are replaced, never edited, as events arrive.
   */
  get coordination(): Readonly<Coordination> {
    return this.#coordination;
  }

  /** True between a welcome and the next close. */
  get connected(): boolean {
    return this.#welcomed;
  }

  /** Commands sent and not yet acknowledged. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Listens to `type`; returns the function that stops listening. */
  on<E extends keyof ClientEvents>(type: E, fn: (value: ClientEvents[E]) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    this.#listeners.set(type, set);
    set.add(fn as (value: never) => void);
    return () => set.delete(fn as (value: never) => void);
  }

  /** Resolves once connected and welcomed; rejects when the client is closed or gave up. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#welcomed) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Runs a kind's action. */
  action<N extends ActionName<K>>(
    name: N,
    args: ActionArgs<K>[N],
    opts: { id?: string } = {},
  ): Promise<Ack<ActionResult<K, N>>> {
    return this.#command({ t: "action", name, args }, opts.id);
  }

  /** Applies RFC 6902 ops atomically; with `ifVersion`, only at that version. */
  patch(ops: PatchOperation[], opts: { id?: string; ifVersion?: number } = {}): Promise<Ack> {
    const frame = opts.ifVersion === undefined
      ? { t: "patch", ops }
      : { t: "patch", ops, ifVersion: opts.ifVersion };
    return this.#command(frame, opts.id);
  }

  /** Sets this agent's status and progress (needs an agent name). */
  agent(
    input: { status: string; progress?: number; task?: string; error?: string },
    opts: { id?: string } = {},
  ): Promise<Ack> {
    return this.#command({ t: "agent", ...input }, opts.id);
  }

  /** Appends a message; the ack's result carries the message id. */
  message(
    input: { role: string; content: string; meta?: Record<string, unknown> },
    opts: { id?: string } = {},
  ): Promise<Ack<{ id: string }>> {
    return this.#command({ t: "message", ...input }, opts.id);
  }

  /** Records a result under `key`. */
  result(
    input: { key: string; data: unknown; partial?: boolean },
    opts: { id?: string } = {},
  ): Promise<Ack> {
    return this.#command({ t: "result", ...input }, opts.id);
  }

  /**
   * Claims the oldest ready task, or `task`, for this agent with a lease
   * (default 60 s); `task` is null when none is ready. Needs an agent name.
   */
  claim(
    opts: { lease?: string | number; task?: string; id?: string } = {},
  ): Promise<Ack<{ task: Task | null }>> {
    const { id, ...input } = opts;
    return this.#command({ t: "claim", ...input }, id);
  }

  /** Extends this agent's lease on `task`; 409 when another agent holds it. */
  heartbeat(
    task: string,
    opts: { lease?: string | number; id?: string } = {},
  ): Promise<Ack<{ task: Task }>> {
    const { id, ...input } = opts;
    return this.#command({ t: "heartbeat", task, ...input }, id);
  }

  /** Ends this agent's `task` as done, with `result`; its dependants become ready. */
  complete(
    task: string,
    result?: unknown,
    opts: { id?: string } = {},
  ): Promise<Ack<{ task: Task }>> {
    return this.#command({ t: "complete", task, result }, opts.id);
  }

  /** Ends this agent's `task` as failed, saying why. */
  failTask(task: string, error: string, opts: { id?: string } = {}): Promise<Ack<{ task: Task }>> {
    return this.#command({ t: "fail", task, error }, opts.id);
  }

  /** Asks a person to choose before a deadline; {@linkcode DenizenClient.waitForDecision} waits for the answer. */
  approval(
    input: ApprovalRequest,
    opts: { id?: string } = {},
  ): Promise<Ack<{ approval: Approval }>> {
    return this.#command({ t: "approval", ...input }, opts.id);
  }

  /** Decides `approval` with `option`, as this agent; 400 for an option not offered, 409 once decided or expired. */
  decide(
    approval: string,
    option: string,
    comment?: string,
    opts: { id?: string } = {},
  ): Promise<Ack<{ approval: Approval }>> {
    return this.#command({ t: "decide", approval, option, comment }, opts.id);
  }

  /** Schedules a durable timer. */
  timer(input: TimerRequest, opts: { id?: string } = {}): Promise<Ack<{ timer: Timer }>> {
    return this.#command({ t: "timer", ...input }, opts.id);
  }

  /** Records a conflict between findings. */
  conflict(
    input: ConflictRequest,
    opts: { id?: string } = {},
  ): Promise<Ack<{ conflict: Conflict }>> {
    return this.#command({ t: "conflict", ...input }, opts.id);
  }

  /** Changes the session's name, tags, meta (merged; a null value removes a key) or phase. */
  update(input: UpdateInput, opts: { id?: string } = {}): Promise<Ack> {
    return this.#command({ t: "update", ...input }, opts.id);
  }

  /**
   * Resolves with approval `approvalId` once the mirror shows it decided or
   * expired: at once if it already does, else when its event arrives, on
   * this connection or after a reconnect. An id the mirror does not know yet
   * is waited for too. Rejects when `signal` aborts (with its reason) or the
   * client is closed.
   *
   * @example
   * ```ts ignore
   * const { result } = await client.approval({ prompt: "Publish?", deadline: "30m" });
   * const decided = await client.waitForDecision(result!.approval.id);
   * if (decided.option === "approve") await publish();
   * ```
   */
  waitForDecision(approvalId: string, opts: { signal?: AbortSignal } = {}): Promise<Approval> {
    const now = settled(this.#coordination, approvalId);
    if (now !== undefined) return Promise.resolve(now);
    if (this.#closed) return Promise.reject(this.#closed);
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#decisions.delete(waiter);
        reject(signal!.reason);
      };
      const waiter: DecisionWaiter = {
        approval: approvalId,
        resolve: (a) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(a);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.#decisions.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Closes for good: pending commands fail with `closed`. Resolves once the socket is closed. */
  async close(): Promise<void> {
    const ws = this.#ws;
    this.#stop(new DenizenClientError("closed", "Client is closed"));
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
    ws.close(1000, "Client closed");
    await closed;
  }

  #command<R>(
    frame: Record<string, unknown>,
    id = (this.#opts.newId ?? (() => crypto.randomUUID()))(),
  ): Promise<Ack<R>> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const text = JSON.stringify({ ...frame, id });
      const bytes = utf8Length(text);
      this.#pending.set(id, { text, bytes, resolve: resolve as (ack: Ack) => void, reject });
      this.#unsent.push(id);
      this.#pump();
    });
  }

  /** Forgets an answered command; frees its slot in the window. */
  #settle(id: string): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    this.#inFlight--;
    this.#pump();
    return p;
  }

  /** Sends waiting commands, in order, while the window has room; batching, at the end of the tick. */
  #pump(): void {
    if (this.#opts.batch === false) return this.#send();
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#send();
    });
  }

  #send(): void {
    const ws = this.#ws;
    if (!this.#welcomed || ws === undefined) return;
    const window = this.#opts.window ?? 256;
    const texts: string[] = [];
    const bytes: number[] = [];
    while (this.#inFlight < window && this.#head < this.#unsent.length) {
      const p = this.#pending.get(this.#unsent[this.#head++]);
      if (p === undefined) continue;
      this.#inFlight++;
      texts.push(p.text);
      bytes.push(p.bytes);
    }
    // Packed so that each message leaves in one write (see ONE_WRITE_BYTES).
    for (const m of this.#opts.batch === false ? texts : packMessages(texts, bytes)) send(ws, m);
    if (this.#head > 1024 && this.#head * 2 > this.#unsent.length) {
      this.#unsent = this.#unsent.slice(this.#head);
      this.#head = 0;
    }
  }

  #open(): void {
    const url = new URL(this.#url);
    if (this.#version > 0) url.searchParams.set("since", String(this.#version));
    if (this.#opts.agent !== undefined) url.searchParams.set("agent", this.#opts.agent);
    if (this.#opts.batch !== false) url.searchParams.set("batch", "1");
    const protocols = this.#opts.token !== undefined ? [`bearer.${this.#opts.token}`] : [];
    const WS = this.#opts.WebSocket ?? WebSocket;
    const ws = new WS(url.href, protocols);
    this.#ws = ws;
    ws.onmessage = (e) => this.#receive(ws, e.data);
    ws.onclose = (e) => this.#lost(ws, e.code, e.reason);
  }

  #receive(ws: WebSocket, data: unknown): void {
    if (ws !== this.#ws || typeof data !== "string") return;
    this.#lastRx = this.#now();
    let parsed: ServerFrame | ServerFrame[];
    try {
      parsed = JSON.parse(data);
    } catch {
      return this.#emit(
        "error",
        new DenizenClientError("invalid", "Server sent a frame that is not JSON"),
      );
    }
    if (!Array.isArray(parsed)) return this.#frame(ws, parsed);
    for (const f of parsed) {
      if (ws !== this.#ws) return; // a gap dropped the socket: the rest comes again after `since`
      this.#frame(ws, f);
    }
  }

  #frame(ws: WebSocket, f: ServerFrame): void {
    switch (f.t) {
      case "welcome":
        return this.#welcome(f);
      case "event":
        return this.#apply(ws, f);
      case "ack": {
        const p = this.#settle(f.id);
        return p?.resolve(
          f.result === undefined
            ? { version: f.version }
            : { version: f.version, result: f.result },
        );
      }
      case "error": {
        const error = new DenizenClientError(f.code, f.message);
        const p = f.id === undefined ? undefined : this.#settle(f.id);
        return p === undefined ? this.#emit("error", error) : p.reject(error);
      }
      case "presence":
        this.#presence = f.agents;
        return this.#emit("presence", f.agents);
      case "ping":
        return send(ws, JSON.stringify({ t: "ping" }));
    }
  }

  #welcome(f: WelcomeFrame): void {
    if (f.replayed === undefined && "state" in f.session) {
      this.#state = f.session.state;
      this.#coordination = f.coordination ? structuredClone(f.coordination) : noRecords();
      this.#settleDecisions();
    }
    this.#version = f.seq;
    this.#conn = f.conn;
    this.#welcomed = true;
    this.#attempts = 0;
    this.#unsent = [...this.#pending.keys()];
    this.#head = 0;
    this.#inFlight = 0;
    this.#pump();
    this.#armStale();
    for (const w of this.#waiters.splice(0)) w.resolve();
    this.#emit("welcome", f);
  }

  #apply(ws: WebSocket, e: ClientEvent): void {
    if (e.seq <= this.#version) return;
    if (e.seq !== this.#version + 1) return this.#drop(ws, GAP, "Event gap");
    const data = e.data as { state?: Record<string, unknown>; ops?: Operation[] } | null;
    let records = false;
    try {
      if (e.type === "created" && data?.state) this.#state = structuredClone(data.state);
      else if (Array.isArray(data?.ops)) {
        this.#state = jsonpatch.applyPatch(this.#state, data.ops, false, true).newDocument;
      }
      if (e.type === "restored" || e.type === "coordination.copied") {
        const { coordination } = data as { coordination?: Coordination };
        this.#coordination = coordination ? structuredClone(coordination) : noRecords();
        records = true;
      } else {
        records = mirror(this.#coordination, e.type, data as RecordData, e.at);
      }
    } catch {
      this.#version = 0; // the mirror diverged: the next welcome brings a snapshot
      return this.#drop(ws, GAP, "Mirror diverged");
    }
    this.#version = e.seq;
    if (records) this.#settleDecisions();
    const { seq, type, agent, data: d, at } = e;
    this.#emit(
      "event",
      agent === undefined ? { seq, type, data: d, at } : { seq, type, agent, data: d, at },
    );
  }

  /** Gives up on `ws` at once (it may never finish closing) and reconnects. */
  #drop(ws: WebSocket, code: number, reason: string): void {
    this.#lost(ws, code, reason);
    ws.close(code, reason);
  }

  #lost(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#welcomed = false;
    this.#timers.clearTimeout(this.#stale);
    this.#emit("close", { code, reason });
    if (this.#closed) return;
    if (code === GONE) {
      return this.#stop(new DenizenClientError("not_found", reason || "Session is gone"));
    }
    this.#attempts++;
    const max = this.#opts.maxAttempts ?? Infinity;
    if (this.#attempts > max) {
      return this.#stop(new DenizenClientError("unavailable", `Gave up after ${max} attempts`));
    }
    const ceiling = Math.min(
      this.#opts.maxDelayMs ?? 30_000,
      (this.#opts.initialDelayMs ?? 250) * 2 ** (this.#attempts - 1),
    );
    const delay = ceiling / 2 + (this.#opts.random ?? Math.random)() * ceiling / 2;
    this.#retry = this.#timers.setTimeout(() => this.#open(), delay);
  }

  #armStale(): void {
    const staleMs = this.#opts.staleMs ?? 150_000;
    if (staleMs <= 0) return;
    const ws = this.#ws!;
    const check = () => {
      const silent = this.#now() - this.#lastRx;
      if (silent >= staleMs) return this.#drop(ws, STALE, "No frame from the server");
      this.#stale = this.#timers.setTimeout(check, staleMs - silent);
    };
    this.#stale = this.#timers.setTimeout(check, staleMs);
  }

  /** Resolves the waiters whose approval the mirror shows decided or expired. */
  #settleDecisions(): void {
    for (const w of this.#decisions) {
      const a = settled(this.#coordination, w.approval);
      if (a === undefined) continue;
      this.#decisions.delete(w);
      w.resolve(a);
    }
  }

  #stop(error: DenizenClientError): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const w of this.#decisions) w.reject(error);
    this.#decisions.clear();
    this.#timers.clearTimeout(this.#retry);
    this.#timers.clearTimeout(this.#stale);
    this.#ws = undefined;
    this.#welcomed = false;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  #emit<E extends keyof ClientEvents>(type: E, value: ClientEvents[E]): void {
    for (const fn of this.#listeners.get(type) ?? []) (fn as (v: ClientEvents[E]) => void)(value);
  }
}

/** A {@linkcode DenizenClient.waitForDecision} call waiting for its approval. */
interface DecisionWaiter {
  approval: string;
  resolve(approval: Approval): void;
  reject(error: unknown): void;
}

/** No coordination records. */
function noRecords(): Coordination {
  return { timers: {}, approvals: {}, tasks: {}, conflicts: {} };
}

/** The approval once decided or expired, else undefined. */
function settled(c: Coordination, id: string): Approval | undefined {
  const a = Object.hasOwn(c.approvals, id) ? c.approvals[id] : undefined;
  return a !== undefined && a.status !== "pending" ? a : undefined;
}

/** The payload of a coordination event, as the server sends it. */
interface RecordData {
  id?: string;
  ids?: string[];
  timer?: Timer;
  approval?: Approval | string;
  tasks?: Task[];
  task?: Task;
  ready?: string[];
  conflict?: Conflict;
}

/**
 * Applies coordination event `type` to the mirror `c`: each carries whole
 * records, except the readiness that `task.done` and `task.released` imply
 * for the tasks they name, which is derived as the server derives it.
 * Returns false for any other event.
 */
function mirror(c: Coordination, type: string, d: RecordData, at: string): boolean {
  switch (type) {
    case "timer.scheduled":
      put(c.timers, d.timer!.id, d.timer!);
      return true;
    case "timer.fired":
    case "timer.cancelled":
      delete c.timers[d.id!];
      return true;
    case "timer.dropped":
      for (const id of d.ids!) delete c.timers[id];
      return true;
    case "approval.requested":
    case "approval.decided":
    case "approval.expired": {
      const a = d.approval as Approval;
      put(c.approvals, a.id, a);
      return true;
    }
    case "task.added":
      for (const t of d.tasks!) put(c.tasks, t.id, t);
      return true;
    case "task.claimed":
    case "task.lease_extended":
    case "task.lease_expired":
    case "task.failed":
      put(c.tasks, d.task!.id, d.task!);
      return true;
    case "task.done":
      put(c.tasks, d.task!.id, d.task!);
      for (const id of d.ready ?? []) {
        if (Object.hasOwn(c.tasks, id)) {
          put(c.tasks, id, { ...c.tasks[id], status: "ready", updatedAt: at });
        }
      }
      return true;
    case "task.released": {
      const ready = new Set(d.ready);
      for (const t of Object.values(c.tasks)) {
        if (t.gate !== d.approval) continue;
        const { gate: _gate, ...rest } = t;
        put(c.tasks, t.id, {
          ...rest,
          status: ready.has(t.id) ? "ready" : "blocked",
          updatedAt: at,
        });
      }
      return true;
    }
    case "task.dropped":
      for (const id of d.ids!) delete c.tasks[id];
      return true;
    case "conflict.recorded":
    case "conflict.resolved":
      put(c.conflicts, d.conflict!.id, d.conflict!);
      return true;
    default:
      return false;
  }
}

/** Sets `records[id]` as an own property, whatever the id (`__proto__` is a valid record id). */
function put<T>(records: Record<string, T>, id: string, record: T): void {
  Object.defineProperty(records, id, {
    value: record,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Sends unless the socket is no longer open (its close event follows). */
function send(ws: WebSocket, text: string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(text);
}

/**
 * Connects and resolves once welcomed; rejects when the client gives up.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@denizen/denizen/client";
 * const client = await connect("ws://127.0.0.1:8000/v1/sessions/abc/ws", { agent: "bot", maxAttempts: 5 });
 * await client.agent({ status: "working", progress: 0.5 });
 * await client.close();
 * ```
 */
export async function connect<K = SessionKind>(
  url: string | URL,
  opts: ClientOptions = {},
): Promise<DenizenClient<K>> {
  const client = new DenizenClient<K>(url, opts);
  try {
    await client.ready();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}
