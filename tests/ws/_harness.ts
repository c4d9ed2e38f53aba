/**
 * Real sockets for the WebSocket tests: a runtime served on 127.0.0.1, a
 * peer that records every frame it receives, and a TCP proxy that can cut
 * connections abruptly.
 */
import { Hono } from "hono";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../mod.ts";
import { type WsRoute, wsRoute } from "../../routes/ws.ts";
import type { WsOptions } from "../../routes/ws_hub.ts";

/** A server frame as the tests read it. */
// deno-lint-ignore no-explicit-any -- tests poke at arbitrary frame fields
export type Frame = Record<string, any>;

/** A runtime and its WebSocket route on a real port. */
export interface Served {
  rt: Runtime;
  route: WsRoute;
  port: number;
  /** The `/ws` URL of session `id`, with `query`. */
  url(id: string, query?: Record<string, string | number>): string;
  close(): Promise<void>;
}

/** Serves a fresh in-memory runtime; `ws` tunes the protocol. */
export async function serve(
  opts: { ws?: WsOptions; runtime?: RuntimeOptions } = {},
): Promise<Served> {
  const rt = await createRuntime({ memory: true, tickMs: 0, ...opts.runtime });
  const route = wsRoute(rt, opts.ws);
  const app = new Hono().get("/v1/sessions/:id/ws", route);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const port = server.addr.port;
  return {
    rt,
    route,
    port,
    url: (id, query = {}) => wsUrl(port, id, query),
    async close() {
      await server.shutdown();
      await rt.close();
    },
  };
}

/** `ws://127.0.0.1:port/v1/sessions/id/ws?query`. */
export function wsUrl(
  port: number,
  id: string,
  query: Record<string, string | number> = {},
): string {
  const u = new URL(`ws://127.0.0.1:${port}/v1/sessions/${id}/ws`);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  return u.href;
}

/** A raw WebSocket that records frames and closes. */
export class Peer {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  /** Per message received: 0 for a lone frame, else the length of its batch array. */
  readonly messages: number[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #read = 0;
  #wake: (() => void) | undefined;

  constructor(url: string, protocols?: string[]) {
    this.ws = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("socket error before open"));
    });
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (e) => {
        resolve(e);
        this.#wake?.();
      };
    });
    this.ws.onmessage = (e) => {
      const parsed = JSON.parse(e.data);
      const frames = Array.isArray(parsed) ? parsed : [parsed];
      this.frames.push(...frames);
      this.messages.push(Array.isArray(parsed) ? frames.length : 0);
      this.#wake?.();
    };
  }

  /** Opens and waits for the welcome. */
  static async open(url: string, protocols?: string[]): Promise<Peer> {
    const p = new Peer(url, protocols);
    await p.opened;
    await p.next((f) => f.t === "welcome");
    return p;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next unread frame that matches, skipping others; fails after `ms`. */
  async next(match: (f: Frame) => boolean = () => true, ms = 5_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.#read < this.frames.length) {
        const f = this.frames[this.#read++];
        if (match(f)) return f;
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error("socket closed while waiting");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Sends a ping and waits for its pong. */
  async roundTrip(): Promise<void> {
    this.send({ t: "ping" });
    await this.next((f) => f.t === "pong");
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

/** A TCP proxy to `port` whose connections `cut()` drops without a close handshake. */
export class Proxy {
  readonly #listener: Deno.Listener;
  readonly #pairs = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly port: number;
  readonly #accepting: Promise<void>;

  constructor(target: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(target);
  }

  async #accept(target: number): Promise<void> {
    for await (const inbound of this.#listener) {
      const outbound = await Deno.connect({ hostname: "127.0.0.1", port: target });
      this.#pairs.add(inbound).add(outbound);
      const task = Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]).then(() => {
        this.#pairs.delete(inbound);
        this.#pairs.delete(outbound);
      });
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  /** Drops every proxied connection at once. */
  async cut(): Promise<void> {
    for (const c of this.#pairs) tryClose(c);
    await Promise.all(this.#tasks);
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.cut();
    await this.#accepting.catch(() => {});
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // The other side was cut.
  }
  tryClose(from);
  tryClose(to);
}

function tryClose(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}

/** Resolves when `cond()` holds; fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
