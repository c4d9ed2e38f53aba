/**
 * The WebSocket hub of one runtime: its options, its open connections,
 * per-session presence, and the heartbeat sweep that pings silent
 * connections and closes dead ones.
 *
 * @module
 */
import { internals, type Runtime } from "../actors/runtime.ts";
import type { Metrics } from "../src/metrics.ts";
import type { ServerFrame } from "./ws_frames.ts";

/** Tunables of the WebSocket protocol; the defaults are those of SPEC §5. */
export interface WsOptions {
  /** Silence after which a connection is sent `{t:"ping"}`. Default 60 s. */
  pingAfterMs?: number;
  /** Silence after which a connection is closed and leaves presence. Default 5 min. */
  closeAfterMs?: number;
  /** How often the heartbeat sweep runs while connections are open; 0 leaves it to {@linkcode WsHub.tick}. Default 5 s. */
  sweepMs?: number;
  /** Frames queued for a subscriber beyond which it is closed with 4008. Default 1,000. */
  maxLag?: number;
  /** The socket's `bufferedAmount` above which frames wait in the queue. Default 1 MiB. */
  highWaterBytes?: number;
  /** Frames per second a connection may send (each frame of a batch counts). A batching agent on one session reaches about 80,000 on a 2-core machine. Default 200,000. */
  rate?: number;
  /** Frames accepted in one burst. Default `min(rate, 5,000)`. */
  burst?: number;
  /** Refused frames within one second after which the connection is closed with 4029. Default 200. */
  maxRefused?: number;
  /** Commands awaiting their ack, per connection. Default 1,000 (the server remembers 1,000 ids). */
  maxInFlight?: number;
  /** Most events replayed for `?since`; further behind gets the snapshot. Default 10,000. */
  maxReplay?: number;
}

/** {@linkcode WsOptions} with every default filled in. */
export type WsSettings = Required<WsOptions>;

/** What the hub needs of a connection. */
export interface HubMember {
  readonly session: string;
  readonly agent?: string;
  /** Takes no new command, answers those in flight, then closes with {@linkcode CLOSE}'s `restart`. */
  drain(): Promise<void>;
  /** Sends a frame through the connection's queue. */
  post(frame: ServerFrame): void;
  /** Pings or closes the connection when it has been silent too long. */
  heartbeat(now: number): void;
}

/**
 * The connections of one runtime.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * import { WsHub } from "./ws_hub.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const hub = new WsHub(rt, { sweepMs: 0 });
 * hub.tick(); // pings silent connections, closes dead ones
 * await rt.close();
 * ```
 */
export class WsHub {
  readonly rt: Runtime;
  /** The runtime's metrics, where the hub counts connections and messages. */
  readonly metrics: Metrics;
  readonly settings: WsSettings;
  readonly #members = new Set<HubMember>();
  readonly #sessions = new Map<string, Set<HubMember>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #draining = false;

  constructor(rt: Runtime, opts: WsOptions = {}) {
    this.rt = rt;
    const { beforeClose, metrics } = internals(rt);
    this.metrics = metrics;
    beforeClose(() => this.drain());
    const rate = opts.rate ?? 200_000;
    this.settings = {
      pingAfterMs: opts.pingAfterMs ?? 60_000,
      closeAfterMs: opts.closeAfterMs ?? 300_000,
      sweepMs: opts.sweepMs ?? 5_000,
      maxLag: opts.maxLag ?? 1_000,
      highWaterBytes: opts.highWaterBytes ?? 1024 * 1024,
      rate,
      burst: opts.burst ?? Math.min(rate, 5_000),
      maxRefused: opts.maxRefused ?? 200,
      maxInFlight: opts.maxInFlight ?? 1_000,
      maxReplay: opts.maxReplay ?? 10_000,
    };
  }

  /** Open connections. */
  get size(): number {
    return this.#members.size;
  }

  /** Agents connected to `session`, sorted. */
  agents(session: string): string[] {
    const names = new Set<string>();
    for (const m of this.#sessions.get(session) ?? []) {
      if (m.agent !== undefined) names.add(m.agent);
    }
    return [...names].sort();
  }

  /** Runs the heartbeat once: pings connections silent for `pingAfterMs`, closes those silent for `closeAfterMs`. */
  tick(): void {
    const now = this.rt.clock.now();
    for (const m of [...this.#members]) m.heartbeat(now);
  }

  /**
   * Drains every connection for a shutdown: each takes no new command
   * (frames that arrive stay unanswered, so a client resends them after it
   * reconnects), sends the acks of those in flight, and closes with 4503
   * ("reconnect"). Connections that open meanwhile are drained at once.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    await Promise.all([...this.#members].map((m) => m.drain()));
  }

  /** Registers an open connection, counts it, and starts the sweep with the first one. */
  open(m: HubMember): void {
    if (this.#draining) void m.drain();
    this.#members.add(m);
    this.metrics.wsConnections++;
    if (this.#timer === undefined && this.settings.sweepMs > 0) {
      this.#timer = setInterval(() => this.tick(), this.settings.sweepMs);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Adds a welcomed connection to its session's presence; tells the others if its agent is new. */
  join(m: HubMember): void {
    const peers = this.#sessions.get(m.session) ?? new Set();
    this.#sessions.set(m.session, peers);
    const before = this.agents(m.session).length;
    peers.add(m);
    const agents = this.agents(m.session);
    const targets = agents.length !== before ? peers : [m];
    for (const p of targets) p.post({ t: "presence", agents });
  }

  /** Forgets a connection; tells its session's others when its agent left. Safe to call twice. */
  close(m: HubMember): void {
    if (!this.#members.delete(m)) return;
    this.metrics.wsConnections--;
    if (this.#members.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    const peers = this.#sessions.get(m.session);
    if (!peers?.delete(m)) return;
    if (peers.size === 0) this.#sessions.delete(m.session);
    if (m.agent === undefined || this.agents(m.session).includes(m.agent)) return;
    const agents = this.agents(m.session);
    for (const p of peers) p.post({ t: "presence", agents });
  }
}
