/**
 * The raw WebSocket protocol (SPEC §5) as the load generators speak it:
 * session creation over HTTP, opening a socket up to its `welcome`, and a
 * pipelining writer that keeps a window of patches in flight.
 *
 * @module
 */
import { packMessages, utf8Length } from "../src/batch_message.ts";

/** A parsed server frame: only the fields the generators read. */
export interface Frame {
  t: string;
  id?: string;
  seq?: number;
  version?: number;
  code?: string;
  message?: string;
  replayed?: number;
}

/** A state of about `kib` KiB: a counter `n` and `kib * 4` items of about 256 bytes. */
export function stateOf(kib: number): Record<string, unknown> {
  const items = Array.from({ length: Math.max(1, kib * 4) }, (_, i) => ({
    i,
    text: `item ${i} `.padEnd(230, "lorem ipsum "),
  }));
  return { n: 0, items };
}

/** Creates session `id` over HTTP with `body` merged into `{id, state}`. */
export async function createSession(
  base: string,
  id: string,
  state: Record<string, unknown>,
  body: Record<string, unknown> = {},
): Promise<void> {
  const res = await fetch(`${base}/v1/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, id, state }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${text.slice(0, 200)}`);
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T>(
  items: T[],
  limit: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** How long a socket may take to send its welcome. */
const WELCOME_TIMEOUT_MS = 15_000;

/** An open socket after its welcome, with how long the welcome took and what was replayed. */
export interface Opened {
  ws: WebSocket;
  welcome: Frame;
  /** From `new WebSocket` to the welcome frame, ms. */
  welcomeMs: number;
  /** Event frames received before the welcome. */
  events: number;
}

/** The frames of a message: a lone frame, or a batch array (`?batch=1`). */
function framesOf(data: string): Frame[] {
  const parsed = JSON.parse(data) as Frame | Frame[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** Opens `/v1/sessions/:id/ws` with `query` and resolves at the welcome. */
export function openSocket(base: string, id: string, query = ""): Promise<Opened> {
  const url = `${base.replace(/^http/, "ws")}/v1/sessions/${id}/ws${query ? `?${query}` : ""}`;
  const started = performance.now();
  const ws = new WebSocket(url);
  let events = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`socket ${id}: no welcome in ${WELCOME_TIMEOUT_MS} ms`));
    }, WELCOME_TIMEOUT_MS);
    ws.onerror = () => reject(new Error(`socket ${id} failed`));
    ws.onclose = (e) => reject(new Error(`socket ${id} closed ${e.code} ${e.reason}`));
    ws.onmessage = (e) => {
      const data = e.data as string;
      if (data.startsWith('{"t":"event"')) return void events++;
      for (const f of framesOf(data)) {
        if (f.t === "event") events++;
        else if (f.t === "welcome") {
          clearTimeout(timer);
          ws.onmessage = null;
          ws.onclose = null;
          return resolve({ ws, welcome: f, welcomeMs: performance.now() - started, events });
        } else if (f.t === "error") {
          return reject(new Error(`socket ${id}: ${f.code} ${f.message}`));
        }
      }
    };
  });
}

/** Closes `ws` and resolves once it is closed (or after 2 s). */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    ws.onclose = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.onerror = null;
    ws.close();
  });
}

/**
 * Keeps `window` one-field patches in flight on one socket: a new one goes
 * out for every ack or error that comes back. With `batch` (a socket opened
 * with `?batch=1`), the patches answered by one message go out again as one
 * batch message, as `client.ts` sends them; else one message each.
 */
export class Pipeline {
  acked = 0;
  errors = 0;
  lastError = "";
  closed = "";
  #sent = 0;
  #inFlight = 0;
  #stopped = false;
  #idle: (() => void) | undefined;
  #queued: string[] = [];
  readonly #ws: WebSocket;
  readonly #window: number;
  readonly #tag: string;
  readonly #batch: boolean;

  constructor(ws: WebSocket, window: number, tag: string, batch = false) {
    this.#ws = ws;
    this.#window = window;
    this.#tag = tag;
    this.#batch = batch;
    ws.onmessage = (e) => this.#receive(e.data as string);
    ws.onclose = (e) => {
      this.closed = `${e.code} ${e.reason}`;
      this.#inFlight = 0;
      this.#idle?.();
    };
  }

  /** Fills the window. */
  start(): void {
    while (this.#inFlight < this.#window) this.#send();
    this.#flush();
  }

  /** Stops sending and resolves once every sent command has its answer (or after 10 s). */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #send(): void {
    const n = ++this.#sent;
    this.#inFlight++;
    this.#queued.push(JSON.stringify({
      t: "patch",
      id: `${this.#tag}-${n}`,
      ops: [{ op: "replace", path: "/n", value: n }],
    }));
  }

  /** Sends the queued patches: packed as `client.ts` packs them, or one by one. */
  #flush(): void {
    const q = this.#queued;
    this.#queued = [];
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    if (!this.#batch) return q.forEach((text) => this.#ws.send(text));
    for (const m of packMessages(q, q.map(utf8Length))) this.#ws.send(m);
  }

  #receive(data: string): void {
    if (data.startsWith('{"t":"event"') || data.startsWith('{"t":"presence"')) return;
    for (const f of framesOf(data)) this.#answer(f);
    this.#flush();
  }

  #answer(f: Frame): void {
    if (f.t === "ack") this.acked++;
    else if (f.t === "error") {
      this.errors++;
      this.lastError = `${f.code}: ${f.message}`;
    } else return;
    this.#inFlight--;
    if (!this.#stopped && this.#ws.readyState === WebSocket.OPEN) this.#send();
    else if (this.#inFlight === 0) this.#idle?.();
  }
}
