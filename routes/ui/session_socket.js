/**
 * A watcher's connection to one session's WebSocket (SPEC §5), for the
 * page: it sends no commands, only reads. Frames come as one frame or a
 * JSON array of them (`?batch=1`). It keeps the last seq it handed on, and
 * after a drop (a server restart, a 4008 for falling behind, a gap)
 * reconnects with backoff and jitter and resumes with `?since=<seq>`, so the
 * server replays what was missed or sends a fresh snapshot.
 *
 * @module
 */
import { getToken } from "./api.js";

/** The server's close code for a deleted session. */
const GONE = 4004;
/** Our own close code for an event gap or a diverged mirror. */
const GAP = 4009;

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 4000;

/**
 * @typedef {{t: "event", seq: number, type: string, agent?: string, data: any, at: string}} EventFrame
 * @typedef {{t: "welcome", conn: string, session: any, seq: number, replayed?: number,
 *   coordination?: any}} WelcomeFrame
 * @typedef {"connecting" | "live" | "reconnecting" | "gone" | "closed"} SocketState
 * @typedef {{
 *   welcome(frame: WelcomeFrame): void,
 *   events(events: EventFrame[]): void,
 *   presence?(agents: string[]): void,
 *   state?(state: SocketState, detail: {attempt: number, retryInMs?: number, code?: number}): void,
 *   failing?(attempt: number): void,
 * }} SocketHandlers
 */

export class SessionSocket {
  /** @type {WebSocket | undefined} */
  #ws;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retry;
  #attempt = 0;
  #closed = false;
  /** Seq of the last event handed on. */
  seq = 0;

  /**
   * @param {string} session
   * @param {SocketHandlers} handlers
   */
  constructor(session, handlers) {
    this.session = session;
    this.handlers = handlers;
  }

  /** Opens the first connection. */
  start() {
    this.#open();
  }

  /** Closes for good. */
  close() {
    this.#closed = true;
    clearTimeout(this.#retry);
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "Page left");
    this.handlers.state?.("closed", { attempt: 0 });
  }

  /** Drops the connection and resumes from `seq` (0 asks for a snapshot). */
  resync(seq = this.seq) {
    this.seq = seq;
    const ws = this.#ws;
    if (ws) this.#lost(ws, GAP);
    try {
      ws?.close(GAP, "Resync");
    } catch {
      // closing already
    }
  }

  #open() {
    if (this.#closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = new URL(
      `${scheme}//${location.host}/v1/sessions/${encodeURIComponent(this.session)}/ws`,
    );
    url.searchParams.set("batch", "1");
    if (this.seq > 0) url.searchParams.set("since", String(this.seq));
    const token = getToken();
    this.handlers.state?.(this.#attempt === 0 ? "connecting" : "reconnecting", {
      attempt: this.#attempt,
    });
    let ws;
    try {
      ws = new WebSocket(url.href, token ? [`bearer.${token}`] : []);
    } catch {
      // A token that is not a valid subprotocol: fail like a refused upgrade.
      this.#schedule(1006);
      return;
    }
    this.#ws = ws;
    ws.onmessage = (e) => this.#receive(ws, e.data);
    ws.onclose = (e) => this.#lost(ws, e.code);
  }

  /**
   * @param {WebSocket} ws
   * @param {unknown} data
   */
  #receive(ws, data) {
    if (ws !== this.#ws || typeof data !== "string") return;
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const frames = Array.isArray(parsed) ? parsed : [parsed];
    /** @type {EventFrame[]} */
    const events = [];
    for (const f of frames) {
      if (ws !== this.#ws) return;
      switch (f?.t) {
        case "welcome":
          this.#flush(events);
          this.seq = f.seq;
          this.#attempt = 0;
          this.handlers.welcome(f);
          this.handlers.state?.("live", { attempt: 0 });
          break;
        case "event":
          if (f.seq <= this.seq) break;
          if (f.seq !== this.seq + 1) {
            this.#flush(events);
            return this.resync();
          }
          this.seq = f.seq;
          events.push(f);
          break;
        case "presence":
          this.handlers.presence?.(f.agents ?? []);
          break;
        case "ping":
          if (ws.readyState === WebSocket.OPEN) ws.send('{"t":"ping"}');
          break;
      }
    }
    this.#flush(events);
  }

  /** @param {EventFrame[]} events */
  #flush(events) {
    if (events.length === 0) return;
    this.handlers.events(events.splice(0));
  }

  /**
   * @param {WebSocket} ws
   * @param {number} code
   */
  #lost(ws, code) {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    ws.onmessage = null;
    ws.onclose = null;
    if (this.#closed) return;
    if (code === GONE) {
      this.#closed = true;
      this.handlers.state?.("gone", { attempt: 0, code });
      return;
    }
    this.#schedule(code);
  }

  /** @param {number} code */
  #schedule(code) {
    this.#attempt++;
    if (this.#attempt >= 2) this.handlers.failing?.(this.#attempt);
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.#attempt - 1));
    const delay = code === GAP ? 0 : ceiling / 2 + Math.random() * ceiling / 2;
    this.handlers.state?.("reconnecting", { attempt: this.#attempt, retryInMs: delay, code });
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#open(), delay);
  }
}
