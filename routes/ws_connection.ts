/**
 * One WebSocket connection: the welcome (snapshot or replay with no gap at
 * the seam), the live event stream, pipelined commands, flood control,
 * heartbeat and backpressure.
 *
 * Every outgoing frame goes through one queue, so acks never overtake the
 * events of their commands. The queue is written to the socket while its
 * `bufferedAmount` is under the high-water mark; a queue longer than
 * `maxLag` frames closes the connection with 4008 (resume with `since`).
 *
 * @module
 */
import { batchLength, batchMessage } from "../src/batch_message.ts";
import { DenizenError } from "../src/errors.ts";
import { eventJson, type SessionEvent } from "../src/session.ts";
import { type CommandSource, startCommand } from "./ws_commands.ts";
import {
  type ClientFrame,
  type FrameProblem,
  parseMessage,
  type ServerFrame,
} from "./ws_frames.ts";
import type { HubMember, WsHub } from "./ws_hub.ts";
import { RateLimit } from "./ws_rate_limit.ts";
import { replay } from "./ws_replay.ts";

/**
 * Close codes of the protocol. The WebSocket API lets a server close with
 * 1000 or 3000-4999 only, so policy closes use 4xxx codes named after their
 * HTTP cousins.
 */
export const CLOSE = {
  /** Silent for `closeAfterMs`. */
  idle: 4000,
  /** The session is gone. */
  gone: 4004,
  /** Too far behind: reconnect with `since`. */
  behind: 4008,
  /** The welcome failed on the server's side; the client may retry. */
  failed: 4011,
  /** Flooding after `rate_limited` errors (policy violation, like 1008). */
  flood: 4029,
  /** The server is shutting down: reconnect (to it once restarted, or to another instance). */
  restart: 4503,
} as const;

/** How long a drained socket waits for the peer's close frame, in ms. */
const CLOSE_WAIT_MS = 2_000;

/** How often a blocked queue retries the socket, in ms. */
const FLUSH_POLL_MS = 5;

/** Who is connecting, decided before the upgrade. */
export interface ConnectionInit {
  session: string;
  agent?: string;
  since?: number;
  /** `?batch=1`: frames ready at the same moment go out as one JSON array message. */
  batch?: boolean;
}

/**
 * Serves one socket. Created at upgrade time; it starts on the socket's `open`.
 *
 * @example
 * ```ts ignore
 * const conn = new WsConnection(hub, socket, { session: "s1", agent: "bot" });
 * socket.onopen = () => conn.start();
 * socket.onmessage = (e) => conn.receive(e.data);
 * socket.onclose = () => conn.dispose();
 * ```
 */
export class WsConnection implements HubMember {
  readonly session: string;
  readonly agent?: string;
  readonly #hub: WsHub;
  readonly #socket: WebSocket;
  readonly #since?: number;
  readonly #batch: boolean;
  readonly #limit: RateLimit;
  /** Who this connection's commands come from. */
  readonly #source: CommandSource;
  readonly #out: string[] = [];
  #drained: (() => void) | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** A batching connection's flush is queued as a microtask. */
  #flushQueued = false;
  /** Incoming frames held until the welcome is sent; then undefined. */
  #inbox: (ClientFrame | FrameProblem)[] | undefined = [];
  /** Live events held while the welcome is prepared; then undefined. */
  #live: SessionEvent[] | undefined = [];
  #seq = 0;
  #inFlight = 0;
  #lastSeen: number;
  #lastPing: number;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Set by {@linkcode drain}: commands are no longer taken; resolves the drain once none is in flight. */
  #draining: (() => void) | undefined;

  constructor(hub: WsHub, socket: WebSocket, init: ConnectionInit) {
    this.#hub = hub;
    this.#socket = socket;
    this.session = init.session;
    this.agent = init.agent;
    this.#since = init.since;
    this.#batch = init.batch ?? false;
    this.#source = { session: init.session, agent: init.agent };
    const now = hub.rt.clock.now();
    this.#lastSeen = now;
    this.#lastPing = now;
    const s = hub.settings;
    this.#limit = new RateLimit({ rate: s.rate, burst: s.burst, maxRefused: s.maxRefused }, now);
  }

  /** Subscribes, sends the replay or the snapshot and the welcome, then serves held frames. */
  async start(): Promise<void> {
    const rt = this.#hub.rt;
    this.#hub.open(this);
    try {
      const unsubscribe = await rt.subscribe(this.session, (events) => this.#onEvents(events));
      if (this.#closed) return unsubscribe();
      this.#unsubscribe = unsubscribe;
      const { maxReplay, maxLag } = this.#hub.settings;
      const welcome = await replay(rt, {
        conn: rt.ids(),
        session: this.session,
        since: this.#since,
        maxReplay,
        page: Math.max(1, Math.min(250, Math.floor(maxLag / 2))),
        send: (e) => this.#postEvent(e),
        drained: () => this.#whenDrained(),
        live: () => this.#live ?? [],
      });
      if (this.#closed) return;
      this.#seq = welcome.seq;
      this.post(welcome);
      const held = this.#live ?? [];
      this.#live = undefined;
      for (const e of held) this.#sendEvent(e);
      this.#hub.join(this);
      const inbox = this.#inbox ?? [];
      this.#inbox = undefined;
      for (const f of inbox) this.#handle(f);
    } catch (error) {
      this.post(errorFrame(error));
      this.shut(
        error instanceof DenizenError && error.status === 404 ? CLOSE.gone : CLOSE.failed,
        "Welcome failed",
      );
    }
  }

  /**
   * Handles one incoming message: a frame, or a batch of frames that are
   * handled in order as if each had come alone (each takes its own token
   * from the flood guard and its own slot among the commands in flight).
   */
  receive(data: unknown): void {
    if (this.#closed) return;
    const now = this.#hub.rt.clock.now();
    this.#lastSeen = now;
    this.#hub.metrics.wsMessages++;
    for (const f of parseMessage(data)) {
      if (this.#closed) return;
      const verdict = this.#limit.take(now);
      if (verdict === "flood") return this.shut(CLOSE.flood, "Rate limit exceeded");
      if (verdict === "limited") {
        this.post(rateLimited("Too many frames; slow down", "id" in f ? f.id : undefined));
      } else if (this.#inbox === undefined) {
        this.#handle(f);
      } else if (this.#inbox.length >= this.#hub.settings.maxInFlight) {
        this.post(rateLimited("Too many frames before the welcome", "id" in f ? f.id : undefined));
      } else {
        this.#inbox.push(f);
      }
    }
  }

  /** Queues a frame for the socket. */
  post(frame: ServerFrame): void {
    this.#postText(JSON.stringify(frame));
  }

  #postText(text: string): void {
    if (this.#closed) return;
    this.#out.push(text);
    if (this.#out.length > this.#hub.settings.maxLag) {
      return this.shut(CLOSE.behind, "Too far behind; reconnect with since");
    }
    if (!this.#batch) return this.#flush();
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Pings after `pingAfterMs` of silence, closes after `closeAfterMs`. */
  heartbeat(now: number): void {
    const { pingAfterMs, closeAfterMs } = this.#hub.settings;
    if (now - this.#lastSeen >= closeAfterMs) return this.shut(CLOSE.idle, "Idle timeout");
    if (now - this.#lastSeen >= pingAfterMs && now - this.#lastPing >= pingAfterMs) {
      this.#lastPing = now;
      this.post({ t: "ping" });
    }
  }

  /**
   * Takes no new command, waits for the acks of those in flight, then closes
   * with 4503 and resolves once the close handshake is done (or after
   * {@linkcode CLOSE_WAIT_MS}), so that a server stopping next does not cut
   * the close frame short.
   */
  drain(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const socket = this.#socket;
    const closed = new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      socket.addEventListener("close", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    return new Promise<void>((resolve) => {
      this.#draining = () => {
        if (this.#inFlight > 0 && !this.#closed) return;
        this.shut(CLOSE.restart, "Server is shutting down; reconnect");
        resolve();
      };
      this.#draining();
    }).then(() => closed);
  }

  /** Closes the socket with `code` and leaves the hub at once. */
  shut(code: number, reason: string): void {
    if (this.#closed) return;
    if (this.#flushQueued) this.#flush(); // a batching connection's last frames go out first
    this.dispose();
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing: the peer went first.
    }
  }

  /** Releases everything the connection holds. Safe to call twice. */
  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#hub.close(this);
    clearTimeout(this.#flushTimer);
    this.#out.length = 0;
    this.#live = undefined;
    this.#inbox = undefined;
    this.#drained?.();
  }

  #handle(f: ClientFrame | FrameProblem): void {
    if (this.#closed) return;
    if (!("t" in f)) {
      return this.post({
        t: "error",
        ...(f.id ? { id: f.id } : {}),
        code: f.code,
        message: f.message,
      });
    }
    if (f.t === "ping") return this.post({ t: "pong" });
    if (this.#draining) return; // unanswered: the client resends it after it reconnects
    if (this.#inFlight >= this.#hub.settings.maxInFlight) {
      return this.post(rateLimited("Too many commands awaiting their ack", f.id));
    }
    this.#inFlight++;
    startCommand(this.#hub.rt, this.#source, f, {
      resolve: (ack) => {
        this.#inFlight--;
        this.post({ t: "ack", id: f.id, ...ack });
        this.#draining?.();
      },
      reject: (error) => {
        this.#inFlight--;
        this.post(errorFrame(error, f.id));
        this.#draining?.();
      },
    });
  }

  #onEvents(events: readonly SessionEvent[]): void {
    if (this.#closed) return;
    if (this.#live === undefined) {
      for (const e of events) this.#sendEvent(e);
      return;
    }
    this.#live.push(...events);
    if (this.#live.length > this.#hub.settings.maxLag) {
      this.shut(CLOSE.behind, "Too far behind; reconnect with since");
    }
  }

  /** Sends an event unless it was sent already; a gap closes with 4008 so the client resumes. */
  #sendEvent(e: SessionEvent): void {
    if (e.seq <= this.#seq) return;
    if (e.seq !== this.#seq + 1) return this.shut(CLOSE.behind, "Event gap; reconnect with since");
    this.#seq = e.seq;
    this.#postEvent(e);
  }

  #postEvent(e: SessionEvent): void {
    this.#postText(eventFrame(e));
  }

  #flush(): void {
    const socket = this.#socket;
    const high = this.#hub.settings.highWaterBytes;
    try {
      while (
        this.#out.length > 0 && socket.readyState === WebSocket.OPEN &&
        socket.bufferedAmount <= high
      ) {
        socket.send(this.#batch ? this.#takeBatch() : this.#out.shift()!);
      }
    } catch {
      return this.dispose();
    }
    if (this.#out.length <= this.#hub.settings.maxLag / 2) this.#drained?.();
    if (this.#out.length > 0 && this.#flushTimer === undefined && !this.#closed) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#flush();
      }, FLUSH_POLL_MS);
    }
  }

  /** The queue's head as one message: a frame alone, or an array of as many as fit. */
  #takeBatch(): string {
    return batchMessage(this.#out.splice(0, batchLength(this.#out, 0, Infinity)));
  }

  /** Resolves once the queue is at most half full, so a replay never outruns the socket. */
  #whenDrained(): Promise<void> {
    if (this.#closed || this.#out.length <= this.#hub.settings.maxLag / 2) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = () => {
        this.#drained = undefined;
        resolve();
      };
    });
  }
}

function rateLimited(message: string, id?: string): ServerFrame {
  return { t: "error", ...(id !== undefined ? { id } : {}), code: "rate_limited", message };
}

function errorFrame(error: unknown, id?: string): ServerFrame {
  const idPart = id !== undefined ? { id } : {};
  if (error instanceof DenizenError) {
    return { t: "error", ...idPart, code: error.code, message: error.message };
  }
  console.error("websocket command failed:", error);
  return { t: "error", ...idPart, code: "internal", message: "Internal error" };
}

const SESSION_ID_KEY = '{"sessionId":';

/**
 * An event's frame: the event's JSON, made once for the outbox and shared by
 * every subscriber, with `"t":"event"` in place of its `sessionId`.
 */
function eventFrame(e: SessionEvent): string {
  const json = eventJson(e);
  const id = JSON.stringify(e.sessionId);
  const rest = SESSION_ID_KEY.length + id.length;
  if (
    json.startsWith(SESSION_ID_KEY) && json.startsWith(id, SESSION_ID_KEY.length) &&
    json[rest] === ","
  ) {
    return `{"t":"event",${json.slice(rest + 1)}`;
  }
  const frame: ServerFrame = { t: "event", seq: e.seq, type: e.type, data: e.data, at: e.at };
  if (e.agent !== undefined) frame.agent = e.agent;
  return JSON.stringify(frame);
}
