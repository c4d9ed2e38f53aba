/** The soak's server process (`server.ts`): started, killed, restarted, and asked for its memory. */

const config = new URL("../deno.json", import.meta.url).pathname;
const serverFile = new URL("./server.ts", import.meta.url).pathname;

/** The process's memory after a full garbage collection, in bytes. */
export interface CollectedMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** How long the collection took, in ms. */
  gcMs: number;
}

/** One server process at a time on `dir`, always on the same port. */
export class SoakServer {
  readonly dir: string;
  readonly base: string;
  readonly #port: number;
  #child: Deno.ChildProcess | undefined;
  /** SIGKILLs so far. */
  kills = 0;
  /** How long each restart after a kill took until the server was ready, in ms. */
  readonly downMs: number[] = [];

  constructor(dir: string) {
    this.dir = dir;
    this.#port = freePort();
    this.base = `http://127.0.0.1:${this.#port}`;
  }

  /** Starts the server and resolves once it listens. */
  async start(): Promise<void> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config,
        // `gc()` for `GET /soak/gc`: memory samples after a full collection measure what is kept.
        "--v8-flags=--expose-gc",
        serverFile,
        "--dir",
        this.dir,
        "--port",
        String(this.#port),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`soak server exited before it was ready: ${text}`);
      text += value;
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    this.#child = child;
  }

  /** SIGKILLs the server and starts it again on the same data directory. */
  async kill(): Promise<void> {
    await this.stop();
    this.kills++;
    const t0 = performance.now();
    await this.start();
    this.downMs.push(performance.now() - t0);
  }

  /** SIGKILLs the server and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    child.kill("SIGKILL");
    await child.status;
  }

  /** `fetch` on the server, retried for about 10 s while it restarts. */
  async http(path: string, init?: RequestInit): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      try {
        return await fetch(`${this.base}${path}`, init);
      } catch (e) {
        if (attempt > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The server's memory right after a full garbage collection. */
  async collected(): Promise<CollectedMemory> {
    const res = await this.http("/soak/gc", { method: "POST" });
    if (!res.ok) throw new Error(`/soak/gc: ${res.status} ${await res.text()}`);
    return await res.json();
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}
